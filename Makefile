# The one task runner: `make demo` runs the main job, `make test` every test (CI runs it).
CARGO ?= cargo
MDM := target/release/mdm
CONFORMANCE ?= ../shared/conformance
CONFORMANCE_V2 ?= ../shared/conformance-v2
CONFORMANCE_V3 ?= ../shared/conformance-v3

.PHONY: demo test service-test python-test load inventory build toolchain binaryen js js-deps chromium console budgets bench differential hostile fuzz fuzz-smoke schemas

## The wasm32 target the guest and the JS package are built for. rustup installs the
## targets of rust-toolchain.toml only with the toolchain itself, so a machine that already
## had stable lacks it; adding it is idempotent and quick.
toolchain:
	@command -v rustup >/dev/null 2>&1 || { echo "make: rustup is needed (https://rustup.rs): cargo from rustup, not a distribution's" >&2; exit 1; }
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

## Debian's binaryen, whose `wasm-opt` the host's build script runs on the guest module
## (the component is 11% smaller with it, and its size test counts that); a build without
## it works and says so. A step of every build (`make demo` and `make test` alike), since
## cargo does not rebuild the component when a tool appears on PATH: both commands then
## make the same component. Without root and without binaryen it says so and goes on.
binaryen:
	@command -v wasm-opt >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq binaryen >/dev/null; } || echo "make: no binaryen (wasm-opt) and no root to install it: the component is built unshrunk" >&2

## The whole workspace at once: every later cargo command (the JS bindings, the benches'
## compilation, the tests) then reuses these artifacts instead of building wasmtime again
## for another set of unified features. (The component crate is built for wasm32 by the
## host's build script; natively it only links as a test.)
build: toolchain binaryen
	$(CARGO) build --release --workspace --exclude mdm-component

## The main job: the gateway path on the seeds' story, in the wasmtime-hosted engine.
demo: build
	$(MDM) run examples/seeds-story.json
	$(MDM) validate examples/policy.json
	$(MDM) eval --policy examples/policy.json --state examples/alice-state.json --groups sales \
		--event examples/login-second-phone.json
	$(MDM) preview --current examples/policy.json --proposed examples/policy-engineering.json \
		--population examples/population.json --at 2026-11-22T10:00:00Z

## The JSON Schemas in schemas/, generated from the engine's types (`mdm schema`); a test
## fails when the committed ones are stale.
schemas: build
	@for d in policy state event population scenario; do $(MDM) schema $$d > schemas/$$d.schema.json; done
	MDM_BLESS=1 $(CARGO) test --release -p mdm-service --test api openapi

## The npm package in js/pkg (wasm-bindgen of the crate's version from tools/, wasm-opt).
js: toolchain
	js/build.sh

## `npm install`, not `npm ci`: the lockfile pins every version, but jco's optional native
## packages for other platforms are not all published, and `npm ci` refuses a lockfile
## without them.
js-deps:
	cd js && npm install --no-audit --no-fund

## Debian's Chromium for the browser test, when the machine has none.
chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

## The admin console on http://127.0.0.1:8787/ (offline).
console: js
	node js/serve.mjs 8787

## Module size (fails over BROWSER_MODULE_BUDGET, js/budget.mjs), population parse and preview for 10k, 100k and 1M users
## in Node and in Chromium through the console's preview worker (MDM_BUDGET_USERS=... for
## fewer), and the console's first render; then `POST /v1/preview` of `mdm serve` over 1M
## stored users on SQLite and PostgreSQL (bench/service-preview.sh, MDM_PREVIEW_USERS=...).
budgets: build js js-deps chromium
	node js/budgets.mjs
	bench/service-preview.sh

## Every test: format, lints, Rust tests (native and wasmtime: scenarios, bad inputs, the
## differential run, doc examples and the README's Rust snippet), the benches run once each
## as tests (without Cedar and regorus; in the release profile, so nothing is built twice),
## the JS package's Node and Chromium tests and its types,
## hostile inputs through the CLI, `mdm serve` on SQLite and on a PostgreSQL the script starts
## (API, concurrency, SIGKILL durability, bad input, the console's inbox in Chromium: see
## service/tests/run.sh), the Python package in a fresh venv (python/test.sh), the examples
## in canonical form (`mdm fmt --check`), and
## the scenario corpus via the CLI, which must exercise every reason, outcome, error,
## event and setting (`--coverage-min 100`). Everything the
## tests write goes under target/, the CLI's compiled-code cache included.
test: export MDM_CACHE_DIR = $(CURDIR)/target/mdm-cache
test: toolchain build js-deps js chromium
	$(CARGO) fmt --all --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings
	$(CARGO) test --release --workspace
	$(CARGO) test --release --workspace --benches
	cd js && node_modules/.bin/tsc -p test/tsconfig.json
	cd js && node --test --test-concurrency=1 test/
	node bench/hostile.mjs
	service/tests/run.sh
	python/test.sh
	$(MDM) fmt --check examples
	$(MDM) test --coverage --coverage-min 100 tests/scenarios
	@for suite in "$(CONFORMANCE)" "$(CONFORMANCE_V2)" "$(CONFORMANCE_V3)"; do \
		if [ -d "$$suite" ]; then echo "$$suite:"; $(MDM) test "$$suite" || exit 1; \
		else echo "no $$suite: its copy under tests/scenarios ran above"; fi; \
	done

## The service's tests alone (`mdm serve` on SQLite and on a PostgreSQL cluster that the
## script installs if missing and starts on a loopback port): API, concurrency, durability,
## bad input, the console in Chromium.
service-test: toolchain binaryen build js-deps js chromium
	service/tests/run.sh

## The Python package alone (python/: the wheel with the component inside, installed in a
## fresh venv under target/; mypy --strict, the corpus, bad inputs, random sequences,
## hostile documents, threads). Needs the generated files of `cargo test`.
python-test: build
	python/test.sh

## Load on `mdm serve` (not a test): wrk against POST /v1/login for known devices and for a
## mix with registrations, on SQLite and on PostgreSQL; decisions per second, p50 and p99.
load: build
	bench/load.sh

## The device inventory at a million devices (not a test): the backfill of an older
## database, pages of GET /v1/devices and the CSV export with the service's memory, on
## SQLite and on PostgreSQL.
inventory: build
	bench/inventory.sh

## Benchmarks: mdm-policy against Cedar and Rego on the same logins (checked equal first),
## one login natively / warm / fresh instance / cold start, then the table with ratios.
bench: js
	$(CARGO) bench -p mdm-bench --features compare --bench compare
	$(CARGO) bench -p mdm-host --bench decide
	$(CARGO) run --release -q -p mdm-bench --bin table

## The large differential run: 100,000 random sequences, native against wasmtime, with the
## contract's invariants checked at every step (the test command runs 2,000, and JS too).
differential: toolchain
	MDM_DIFFERENTIAL_CASES=100000 $(CARGO) test --release -p mdm-tests --test differential -- --nocapture

## Hostile inputs (100 MB policy, 100k-deep JSON, 1M groups, ...) through the CLI, with peak
## memory; fails on any crash. See docs/hostile.md.
hostile: build
	node bench/hostile.mjs

## Fuzzing (cargo-fuzz on stable Rust; fuzz/README.md): every target briefly, or one for
## long. libFuzzer's coverage flags are stable; sanitizers are not, and the engine has no
## unsafe code for one to watch, so none (`--sanitizer none`); `-a` keeps overflow checks
## and debug assertions in the optimised build. cargo-fuzz is installed when missing. The
## slowest input takes well under a second; the 30 s timeout leaves room for a machine whose
## cores a build shares (at 5 s, a starved run reported a timeout that was not one).
## New inputs go to fuzz/target/corpus/<target>; the committed corpus only seeds the run.
TARGET ?= decide
FUZZ_SECONDS ?= 1800
FUZZ_TOOL = @command -v cargo-fuzz >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
FUZZ_RUN = cd fuzz && mkdir -p target/corpus/$(1) && $(CARGO) fuzz run -O -a --sanitizer none $(1) \
	target/corpus/$(1) corpus/$(1) -- -timeout=30 -rss_limit_mb=2048 -max_total_time=$(2) \
	$(if $(wildcard fuzz/$(1).dict),-dict=$(1).dict)
fuzz-smoke:
	$(FUZZ_TOOL)
	$(call FUZZ_RUN,policy,60)
	$(call FUZZ_RUN,event,60)
	$(call FUZZ_RUN,decide,60)
	$(call FUZZ_RUN,json,60)

fuzz:
	$(FUZZ_TOOL)
	$(call FUZZ_RUN,$(TARGET),$(FUZZ_SECONDS))
