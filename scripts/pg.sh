#!/usr/bin/env bash
# A private, throw-away PostgreSQL cluster on 127.0.0.1 for tests and benchmarks.
#   scripts/pg.sh up     -> installs postgresql if missing, starts it, prints DATABASE_URL
#   scripts/pg.sh down   -> stops it
# Settings: PG_DIR (default /tmp/frontline-pg), PGPORT (default 54329).
set -euo pipefail
PG_DIR=${PG_DIR:-/tmp/frontline-pg}
PGPORT=${PGPORT:-54329}
PGDATA=$PG_DIR/data
action=${1:-up}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

case "$action" in
  up)
    if [ -z "$(pg_bin)" ]; then
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >/dev/null
      apt-get install -y -qq --no-install-recommends postgresql postgresql-contrib >/dev/null
    fi
    PGBIN=$(pg_bin)
    install -d -m 755 "$PG_DIR"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PG_DIR"; fi
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
      as_postgres install -d -m 700 "$PGDATA"
      as_postgres "$PGBIN/initdb" -D "$PGDATA" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >"$PG_DIR/initdb.log"
      cat >>"$PGDATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$PGDATA'
max_connections = 200
shared_buffers = 256MB
fsync = ${PG_FSYNC:-off}
synchronous_commit = ${PG_SYNCHRONOUS_COMMIT:-off}
full_page_writes = ${PG_FSYNC:-off}
CONF
    fi
    if ! as_postgres "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
      as_postgres touch "$PG_DIR/pg.log"
      as_postgres "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PG_DIR/pg.log" -w -t 60 start </dev/null >/dev/null
    fi
    psql_su() { as_postgres "$PGBIN/psql" -h "$PGDATA" -p "$PGPORT" -U postgres -v ON_ERROR_STOP=1 -qAtX "$@"; }
    psql_su -c "SELECT 1 FROM pg_roles WHERE rolname='frontline'" | grep -q 1 \
      || psql_su -c "CREATE ROLE frontline LOGIN PASSWORD 'frontline' CREATEDB"
    psql_su -c "SELECT 1 FROM pg_database WHERE datname='frontline'" | grep -q 1 \
      || psql_su -c "CREATE DATABASE frontline OWNER frontline"
    echo "postgres://frontline:frontline@127.0.0.1:$PGPORT/frontline"
    ;;
  down)
    PGBIN=$(pg_bin)
    if [ -n "$PGBIN" ] && [ -s "$PGDATA/PG_VERSION" ]; then
      as_postgres "$PGBIN/pg_ctl" -D "$PGDATA" -m fast stop >/dev/null 2>&1 || true
    fi
    ;;
  *)
    echo "usage: $0 up|down" >&2; exit 2 ;;
esac
