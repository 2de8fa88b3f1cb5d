#!/usr/bin/env bash
# Runs the service's tests (API, concurrency, durability, bad input, the console in
# Chromium) against real `mdm serve` processes, on SQLite and on a real PostgreSQL started
# here (postgres.sh). Usage: service/tests/run.sh [test files...]
set -euo pipefail
cd "$(dirname "$0")"
source ./postgres.sh
if [ $# -eq 0 ]; then set -- *.test.mjs; fi
node --test --test-concurrency=1 "$@"
