#!/bin/sh
# Builds the wheel of `mdm_policy` into target/python/: a copy of python/ is staged under
# target/ with the component the host's build script wrote (the newest
# target/release/build/mdm-host-*/out/mdm.wasm, as js/test/jco.test.mjs picks it), so the
# component is never committed and cannot go stale, and nothing is written outside target/.
# PYTHON names the interpreter whose pip builds it (default python3).
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
out="$repo/target/python"
PYTHON=${PYTHON:-python3}

wasm=$(ls -t "$repo"/target/release/build/mdm-host-*/out/mdm.wasm 2>/dev/null | head -n 1 || true)
if [ -z "$wasm" ]; then
    echo "python/build.sh: no component under target/release/build: cargo build --release makes it" >&2
    exit 1
fi

stage="$out/stage"
rm -rf "$stage"
mkdir -p "$stage" "$out/tmp"
cp -R "$repo/python/pyproject.toml" "$repo/python/README.md" "$repo/python/src" "$stage/"
find "$stage" -name __pycache__ -prune -exec rm -rf {} +
cp "$wasm" "$stage/src/mdm_policy/mdm.wasm"
rm -f "$out"/mdm_policy-*.whl

# pip's build environment and cache stay under target/ too.
TMPDIR="$out/tmp" PIP_CACHE_DIR="$out/pip-cache" \
    "$PYTHON" -m pip wheel --quiet --no-deps --wheel-dir "$out" "$stage"
echo "python/build.sh: $(ls "$out"/mdm_policy-*.whl) (component $wasm)"
