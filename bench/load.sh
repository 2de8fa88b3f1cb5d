#!/usr/bin/env bash
# `make load`: wrk against `mdm serve`'s POST /v1/login on this machine, the load generator
# beside the service: known devices (each login reads the state and logs the decision),
# then a mix with 10% new devices (state writes), on SQLite and on PostgreSQL. Prints
# decisions per second and p50/p99 latency. Not a test: nothing fails on a slow machine.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
source service/tests/postgres.sh
psql "$MDM_TEST_POSTGRES_URL" -q -c "CREATE DATABASE load"

MDM=target/release/mdm
dir=target/load; rm -rf "$dir"; mkdir -p "$dir"
export MDM_GATEWAY_TOKEN=load-gateway-token-0123456789 MDM_ADMIN_TOKEN=load-admin-token-0123456789
export MDM_CACHE_DIR=$PWD/target/mdm-cache LOAD_USERS=${LOAD_USERS:-1000}
DURATION=${LOAD_SECONDS:-10}s CONNECTIONS=${LOAD_CONNECTIONS:-32}
cat > "$dir/policy.json" <<'JSON'
{"schema":"mdm.policy/v1","assignment":{"groups":["sales"]},"assigned":{"max_devices":1,"on_new_device":"approval"}}
JSON

run() { # name db
  local port=$((40000 + RANDOM % 10000))
  $MDM serve --policy "$dir/policy.json" --db "$2" --create --listen 127.0.0.1:$port 2>"$dir/$1.log" &
  local pid=$!
  for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
  # Every user's phone registered once, then the measured runs.
  LOAD_NEW_PERCENT=0 wrk -t1 -c8 -d3s -s bench/load/login.lua http://127.0.0.1:$port >/dev/null
  for mix in 0 10; do
    local line
    line=$(LOAD_NEW_PERCENT=$mix wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/load/login.lua \
      http://127.0.0.1:$port | grep '^LOAD')
    printf '| %-10s | %-26s | %s |\n' "$1" "$([ $mix = 0 ] && echo 'known devices' || echo "mix, $mix% new devices")" \
      "$(echo "$line" | sed -E 's/LOAD rps=([0-9]+) p50_ms=([0-9.]+) p99_ms=([0-9.]+) requests=([0-9]+) non200=([0-9]+) errors=([0-9]+)/\1 | \2 | \3 | \5 + \6/')"
    [ "$1/$mix" = sqlite/0 ] && echo "$line" > "$dir/goal.line"
  done
  kill $pid; wait $pid || true
}

echo "| database   | requests                   | decisions/s | p50 ms | p99 ms | non-200 + errors |"
echo "|------------|----------------------------|-------------|--------|--------|------------------|"
run sqlite "sqlite://$dir/load.db"
run postgres "${MDM_TEST_POSTGRES_URL%/postgres}/load"
echo "($CONNECTIONS connections, $DURATION per run, $LOAD_USERS users, wrk -t1 on the same $(nproc)-core machine)"
# The speed issue's goal (#25), beside this run's figure: known devices on SQLite.
sed -E 's/LOAD rps=([0-9]+) p50_ms=[0-9.]+ p99_ms=([0-9.]+).*/\1 \2/' "$dir/goal.line" | {
  read -r rps p99
  met=$(awk -v r="$rps" -v p="$p99" 'BEGIN { print (r >= 10000 && p <= 10) ? "met" : "not met" }')
  echo "goal (issue 25): known devices on SQLite >= 10,000/s with p99 <= 10 ms; this run $rps/s, p99 $p99 ms: $met"
}
