#!/usr/bin/env bash
# `make inventory`: the device inventory at a million devices, on SQLite and PostgreSQL.
# Writes 1M users with one phone each straight into a database as an older version of
# the service left them, starts `mdm serve` on it (which fills the inventory: the
# backfill's time is measured), then times pages of `GET /v1/devices` (median of 7 curl
# runs each, over loopback) and the full CSV export with the service's resident memory
# before and after. Not a test: nothing fails on a slow machine.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v sqlite3 >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlite3 >/dev/null; }
source service/tests/postgres.sh

MDM=target/release/mdm
N=${INVENTORY_USERS:-1000000}
dir=target/inventory; rm -rf "$dir"; mkdir -p "$dir"
export MDM_ADMIN_TOKEN=inventory-admin-token-0123456789 MDM_GATEWAY_TOKEN=inventory-gateway-token-0123456789
export MDM_CACHE_DIR=$PWD/target/mdm-cache
cat > "$dir/policy.json" <<'JSON'
{"schema":"mdm.policy/v1","assignment":{"groups":["sales"]},"assigned":{"max_devices":1,"on_new_device":"approval"}}
JSON

serve() { # db port
  $MDM serve --policy "$dir/policy.json" --db "$1" "${@:3}" --listen 127.0.0.1:$2 2>>"$dir/serve.log" &
  pid=$!
  until curl -sf http://127.0.0.1:$2/healthz >/dev/null; do
    kill -0 $pid 2>/dev/null || { echo "mdm serve stopped: see $dir/serve.log" >&2; exit 1; }
    sleep 0.05
  done
}

median_ms() { # url [curl args...]: the median of 7 runs' total time, in ms
  for _ in 1 2 3 4 5 6 7; do
    curl -s -o /dev/null -w '%{time_total}\n' -H "authorization: Bearer $MDM_ADMIN_TOKEN" "${@:2}" "$1"
  done | sort -n | sed -n 4p | awk '{ printf "%.1f", $1 * 1000 }'
}

rss_kb() { awk '/^VmRSS/ { print $2 }' /proc/$1/status; }

run() { # name db fill-sql-command...
  local port=$((40000 + RANDOM % 10000))
  serve "$2" $port --create
  kill $pid; wait $pid || true
  local t0; t0=$(date +%s.%N)
  "${@:3}"
  local t1; t1=$(date +%s.%N)
  serve "$2" $port
  local t2; t2=$(date +%s.%N)
  local base=http://127.0.0.1:$port/v1/devices
  local first; first=$(curl -s -H "authorization: Bearer $MDM_ADMIN_TOKEN" "$base?limit=100")
  local cursor; cursor=$(echo "$first" | sed -E 's/.*"next_cursor":"([^"]+)".*/\1/')
  printf '| %-8s | users written in %.1f s; inventory filled at start in %.1f s |\n' "$1" \
    "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)"
  for q in "limit=100" "limit=100&cursor=$cursor" "sort=user&limit=1000" "os_type=android&model=Pix&limit=100" \
      "model=Nokia&limit=100" "noncompliant=true&limit=100" "enrolled=true&noncompliant=true&limit=100" \
      "registered_after=2025-06-01T00:00:00Z&registered_before=2025-06-02T00:00:00Z" \
      "q=u0500&limit=100" "q=u&limit=100" "q=phone%209999&limit=100" "user=u0999999" "sort=user&os_type=other&enrolled=false&limit=100"; do
    printf '| %-8s | GET /v1/devices?%-60s | %7s ms |\n' "$1" "${q/$cursor/<cursor>}" "$(median_ms "$base?$q")"
  done
  printf '| %-8s | GET /v1/users?%-62s | %7s ms |\n' "$1" "q=u05&limit=100" "$(median_ms "http://127.0.0.1:$port/v1/users?q=u05&limit=100")"
  local before; before=$(rss_kb $pid)
  local csv; csv=$(curl -s -o "$dir/devices.csv" -w '%{time_total} %{size_download}' \
    -H "authorization: Bearer $MDM_ADMIN_TOKEN" -H 'accept: text/csv' "$base")
  local after; after=$(rss_kb $pid)
  printf '| %-8s | CSV export: %s lines, %s MB in %.1f s; service RSS %s MB before, %s MB after (+%s MB) |\n' "$1" \
    "$(wc -l < "$dir/devices.csv")" "$(echo "${csv#* } / 1000000" | bc)" "${csv% *}" \
    "$((before / 1024))" "$((after / 1024))" "$(((after - before) / 1024))"
  kill $pid; wait $pid || true
}

fill_sqlite() {
  sqlite3 "$dir/inventory.db" <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $N - 1)
INSERT INTO users (user_id, groups, state, version, updated_ms)
SELECT printf('u%07d', i), '["sales"]',
  json_object('devices', json_array(json_object(
    'device_id', printf('D%07d', i),
    'os_type', CASE i % 3 WHEN 0 THEN 'ios' WHEN 1 THEN 'android' ELSE 'other' END,
    'os_version', '17.2', 'serial_number', printf('SN%010d', i),
    'model', CASE i % 2 WHEN 0 THEN 'iPhone15,2' ELSE 'Pixel 8' END,
    'name', printf('phone %d', i),
    'registered_at', strftime('%Y-%m-%dT%H:%M:%SZ', 1735689600 + i * 30, 'unixepoch')))),
  1, 0 FROM n;
UPDATE users SET state = json_set(state, '\$.devices[0].enrollment',
    json_object('method', 'ios_profile', 'at', '2025-01-01T00:00:00Z'))
  WHERE CAST(substr(user_id, 2) AS INTEGER) % 4 = 0;
UPDATE users SET state = json_set(state, '\$.devices[0].noncompliant_since', '2026-01-01T00:00:00Z')
  WHERE CAST(substr(user_id, 2) AS INTEGER) % 50 = 0;
DELETE FROM devices;
INSERT INTO backfills (name) VALUES ('devices');
COMMIT;
SQL
}

fill_postgres() {
  psql "$pg" -q -v ON_ERROR_STOP=1 <<SQL
INSERT INTO users (user_id, groups, state, version, updated_ms)
SELECT format('u%s', lpad(i::text, 7, '0')), '["sales"]',
  jsonb_build_object('devices', jsonb_build_array(
    jsonb_build_object(
      'device_id', format('D%s', lpad(i::text, 7, '0')),
      'os_type', CASE i % 3 WHEN 0 THEN 'ios' WHEN 1 THEN 'android' ELSE 'other' END,
      'os_version', '17.2', 'serial_number', format('SN%s', lpad(i::text, 10, '0')),
      'model', CASE i % 2 WHEN 0 THEN 'iPhone15,2' ELSE 'Pixel 8' END,
      'name', format('phone %s', i),
      'registered_at', to_char(to_timestamp(1735689600 + i * 30) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
    || CASE WHEN i % 4 = 0 THEN jsonb_build_object('enrollment', jsonb_build_object('method', 'ios_profile', 'at', '2025-01-01T00:00:00Z')) ELSE '{}'::jsonb END
    || CASE WHEN i % 50 = 0 THEN jsonb_build_object('noncompliant_since', '2026-01-01T00:00:00Z') ELSE '{}'::jsonb END
  ))::text, 1, 0
FROM generate_series(0, $N - 1) AS i;
DELETE FROM devices;
INSERT INTO backfills (name) VALUES ('devices');
ANALYZE;
SQL
}

psql "$MDM_TEST_POSTGRES_URL" -q -c "DROP DATABASE IF EXISTS inventory" -c "CREATE DATABASE inventory"
pg="${MDM_TEST_POSTGRES_URL%/postgres}/inventory"
echo "| database | what | median |"
echo "|----------|------|--------|"
run sqlite "sqlite://$dir/inventory.db" fill_sqlite
run postgres "$pg" fill_postgres
echo "($N users with one device each; curl over loopback on the same $(nproc)-core machine)"
