# Sourced by the service's test and load scripts: starts a temporary PostgreSQL cluster of
# Debian's `postgresql` (installed when missing) on a loopback port, exports its URL as
# MDM_TEST_POSTGRES_URL, and stops and deletes it when the sourcing script exits.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "installing Debian's postgresql" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
pg_bin=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")

# initdb refuses to run as root: the cluster belongs to the `postgres` user.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_data=$(mktemp -d /tmp/mdm-pg.XXXXXX)
if [ "$(id -u)" = 0 ]; then chown postgres "$pg_data"; fi
pg_port=${MDM_TEST_POSTGRES_PORT:-$((20000 + RANDOM % 20000))}
as_pg "$pg_bin/initdb" -D "$pg_data/db" -U postgres -A trust --no-sync >/dev/null
as_pg "$pg_bin/pg_ctl" -D "$pg_data/db" -l "$pg_data/log" -w \
  -o "-h 127.0.0.1 -p $pg_port -k $pg_data -c max_connections=300" start >/dev/null
pg_stop() { as_pg "$pg_bin/pg_ctl" -D "$pg_data/db" -m fast stop >/dev/null 2>&1 || true; rm -rf "$pg_data"; }
trap pg_stop EXIT
export MDM_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
