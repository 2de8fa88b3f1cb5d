#!/usr/bin/env bash
# `make budgets`, its last rows: `POST /v1/preview` of `mdm serve` over a million stored
# users (the speed issue's population, js/rich-population.mjs), on SQLite and on a
# PostgreSQL this script starts: each database filled by its own bulk loader, then the
# same preview asked twice, timed by curl, with the service's peak memory. Both answers
# must be the same report. Not a test: a slow machine fails nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v sqlite3 >/dev/null ||
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlite3 >/dev/null; }
source service/tests/postgres.sh

MDM=$PWD/target/release/mdm
USERS=${MDM_PREVIEW_USERS:-1000000}
dir=$PWD/target/service-preview; rm -rf "$dir"; mkdir -p "$dir"
export MDM_GATEWAY_TOKEN=preview-gateway-token-0123456789 MDM_ADMIN_TOKEN=preview-admin-token-0123456789
export MDM_CACHE_DIR=$PWD/target/mdm-cache
echo '{"schema":"mdm.policy/v1","assignment":{"groups":["g1","g2","g3","g4","g5","g6","g7","g8","g9","g10"]}}' \
  > "$dir/current.json"
# The budgets' proposed policy (js/budgets.mjs), as the request's body.
echo '{"proposed":{"schema":"mdm.policy/v1","assignment":{"groups":["g1","g2","g3","g4","g5","g6","g7","g8","g9","g10","g11","g12"],"exclude_groups":["g4"]},"requirements":{"min_os_version":{"android":"14.1"}}},"at":"2026-11-22T10:00:00Z"}' \
  > "$dir/request.json"
node -e 'import("./js/rich-population.mjs").then((m) => m.writeRichPopulation(process.argv[1], +process.argv[2], { ndjson: true }))' \
  "$dir/population.ndjson" "$USERS"

port=$((40000 + RANDOM % 10000))
serve() { # db: the service on `db`, its pid in $pid, ready
  $MDM serve --policy "$dir/current.json" --db "$1" --create --listen 127.0.0.1:$port 2>>"$dir/serve.log" &
  pid=$!
  for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && return; sleep 0.1; done
  echo "mdm serve did not start on $1 (see $dir/serve.log)" >&2; exit 1
}
stop() { kill "$pid"; wait "$pid" || true; }
measure() { # name: two previews against the running service, then its peak memory
  local times=()
  for i in 1 2; do
    times+=("$(curl -sf -o "$dir/$1-$i.json" -w '%{time_total}' -H "authorization: Bearer $MDM_ADMIN_TOKEN" \
      -H 'content-type: application/json' --data-binary @"$dir/request.json" http://127.0.0.1:$port/v1/preview)")
  done
  local rss; rss=$(awk '/VmHWM/ { printf "%.0f MB", $2 / 1024 }' "/proc/$pid/status")
  local users; users=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).summary.users)' "$dir/$1-1.json")
  [ "$users" = "$USERS" ] || { echo "the preview on $1 counted $users users, not $USERS" >&2; exit 1; }
  printf '%-60s %-36s %s\n' "$(printf "%'d" "$USERS") stored users: POST /v1/preview ($1)" \
    "$(printf '%.2f s, then %.2f s (%s)' "${times[0]}" "${times[1]}" "$rss")" "≤ 3 s"
}

# SQLite: the schema made by the service, the users loaded by sqlite3's importer.
serve "sqlite://$dir/preview.db"; stop
sqlite3 "$dir/preview.db" <<SQL
CREATE TEMP TABLE line(text TEXT);
.mode ascii
.separator "\037" "\n"
.import $dir/population.ndjson line
INSERT INTO users (user_id, groups, state, version, updated_ms)
  SELECT json_extract(text, '$.user'), json(json_extract(text, '$.groups')), json(json_extract(text, '$.state')), 1, 0
  FROM line;
SQL
serve "sqlite://$dir/preview.db"; measure SQLite; stop

# PostgreSQL: the same rows, copied from the SQLite file.
psql "$MDM_TEST_POSTGRES_URL" -q -c "CREATE DATABASE preview"
url="${MDM_TEST_POSTGRES_URL%/postgres}/preview"
serve "$url"; stop
sqlite3 -csv "$dir/preview.db" "SELECT user_id, groups, state, version, updated_ms FROM users" |
  psql "$url" -q -c "\copy users (user_id, groups, state, version, updated_ms) FROM STDIN CSV"
psql "$url" -q -c "ANALYZE users"
serve "$url"; measure PostgreSQL; stop
cmp -s "$dir/SQLite-1.json" "$dir/PostgreSQL-1.json" ||
  { echo "SQLite and PostgreSQL answered different reports" >&2; exit 1; }
