# The one task runner: `make demo` runs the main job, `make test` every test (CI runs it).
CARGO ?= cargo
MDM := target/release/mdm
CONFORMANCE ?= ../shared/conformance

.PHONY: demo test bench build

build:
	$(CARGO) build --release

## The main job: the gateway path on the seeds' story, in the wasmtime-hosted engine.
demo: build
	$(MDM) run examples/seeds-story.json
	$(MDM) validate examples/policy.json
	$(MDM) eval --policy examples/policy.json --state examples/alice-state.json --groups sales \
		--event examples/login-second-phone.json
	$(MDM) preview --current examples/policy.json --proposed examples/policy-engineering.json \
		--population examples/population.json --at 2026-11-22T10:00:00Z

## Every test: format, lints, unit and integration tests (native and wasmtime), the guest
## build, the benches' compilation, and the scenario corpus through the CLI.
test: build
	$(CARGO) fmt --all --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings
	$(CARGO) build -p mdm-engine --target wasm32-unknown-unknown --release
	$(CARGO) bench --workspace --no-run
	$(CARGO) test --release --workspace
	$(MDM) test tests/scenarios
	@if [ -d "$(CONFORMANCE)" ]; then $(MDM) test "$(CONFORMANCE)"; \
	else echo "no $(CONFORMANCE): the shared conformance copy in tests/scenarios/conformance ran above"; fi

## Benchmarks (criterion): one login natively, in wasmtime warm, with a fresh instance.
bench:
	$(CARGO) bench -p mdm-host --bench decide
