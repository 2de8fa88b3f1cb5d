#!/usr/bin/env bash
# Runs the service's tests (API, concurrency, durability, bad input, the console in
# Chromium) against real `mdm serve` processes, on SQLite and on a real PostgreSQL: Debian's
# `postgresql`, installed when missing and started here in a temporary cluster on a
# loopback port, stopped when the tests end. Usage: service/tests/run.sh [test files...]
set -euo pipefail
cd "$(dirname "$0")"

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "service tests: installing Debian's postgresql" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
bin=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")

# initdb refuses to run as root: the cluster belongs to the `postgres` user.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
data=$(mktemp -d /tmp/mdm-pg.XXXXXX)
[ "$(id -u)" = 0 ] && chown postgres "$data"
port=${MDM_TEST_POSTGRES_PORT:-$((20000 + RANDOM % 20000))}
as_pg "$bin/initdb" -D "$data/db" -U postgres -A trust --no-sync >/dev/null
as_pg "$bin/pg_ctl" -D "$data/db" -l "$data/log" -w -o "-h 127.0.0.1 -p $port -k $data -c fsync=on -c max_connections=300" start >/dev/null
stop() { as_pg "$bin/pg_ctl" -D "$data/db" -m fast stop >/dev/null 2>&1 || true; rm -rf "$data"; }
trap stop EXIT

export MDM_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
if [ $# -eq 0 ]; then set -- *.test.mjs; fi
node --test --test-concurrency=1 "$@"
