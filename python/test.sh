#!/bin/sh
# The Python package's tests: builds the wheel (build.sh), installs it with pytest and mypy
# from PyPI into a fresh venv (target/python-venv, made with `python3 -m venv`: nothing is
# installed system-wide), checks the package and the tests with `mypy --strict`, and runs
# the tests against the installed wheel. Needs `cargo build --release` (target/release/mdm
# and the component) and the generated files of `cargo test --release` (the differential
# sequences, the native bad-input errors). Writes only under target/.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python3}
venv="$repo/target/python-venv"
export TMPDIR="$repo/target/python/tmp" PIP_CACHE_DIR="$repo/target/python/pip-cache"
export MDM_CACHE_DIR="$repo/target/mdm-cache" PYTHONDONTWRITEBYTECODE=1

"$repo/python/build.sh"
rm -rf "$venv"
"$PYTHON" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet "$repo"/target/python/mdm_policy-*.whl pytest==9.2.0 mypy==2.4.1

cd "$repo/python"
mypy_cache="$repo/target/python/mypy-cache"
"$venv/bin/python" -m mypy --strict --cache-dir "$mypy_cache" -p mdm_policy
"$venv/bin/python" -m mypy --strict --cache-dir "$mypy_cache" tests bench.py
"$venv/bin/python" -m pytest -p no:cacheprovider -q "$@" tests
