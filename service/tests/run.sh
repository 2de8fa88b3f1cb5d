#!/usr/bin/env bash
# Runs the service's tests (API, concurrency, durability, bad input, webhooks against a
# receiver process, the OpenAPI document and a client generated from it, TLS, SIGTERM,
# JSON logs, the console in Chromium) against real
# `mdm serve` processes, on SQLite and on a real PostgreSQL started here (postgres.sh).
# Usage: service/tests/run.sh [test files...]
set -euo pipefail
cd "$(dirname "$0")"
# The suite's npm dev dependencies (package-lock.json pins them), installed when missing
# or older than the lockfile.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
source ./postgres.sh
if [ $# -eq 0 ]; then set -- *.test.mjs; fi
node --test --test-concurrency=1 "$@"
