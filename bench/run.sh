#!/usr/bin/env bash
# `make bench`: the API throughput benchmark against a real server, all on 127.0.0.1.
#
#   private PostgreSQL (scripts/pg.sh, its own dir and port) + private Redis (Celery broker)
#   -> migrate, admin `bench` + write token -> gunicorn + uvicorn workers
#   -> writes (create ticket, agent reply) at concurrency 1/8/32, queue page at 1/8
#   -> SQL queries per request + a profile of ticket creation (in-process)
#   -> bulk-load 1,000,000 tickets -> queue page again (admin and an agent's view) + EXPLAIN
#   -> everything stopped; results in bench/results/bench-<stamp>.json, a table on stdout.
#
# Settings (environment): WORKERS (4), BENCH_PORT (8765), BENCH_TICKETS (1000000),
# BENCH_DURATION (15 s per write level), BENCH_MAX_REQUESTS (3000 per level),
# BENCH_PROFILE (200 creations profiled, 0 to skip), BENCH_KEEP=1 leaves PostgreSQL running.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
BIN=$VENV/bin
PY=$BIN/python
WORKERS=${WORKERS:-4}
BENCH_PORT=${BENCH_PORT:-8765}
BENCH_TICKETS=${BENCH_TICKETS:-1000000}
BENCH_DURATION=${BENCH_DURATION:-15}
BENCH_MAX_REQUESTS=${BENCH_MAX_REQUESTS:-3000}
BENCH_PROFILE=${BENCH_PROFILE:-200}
REDIS_PORT=${BENCH_REDIS_PORT:-63799}
export PG_DIR=/tmp/frontline-pg-bench
export PGPORT=${BENCH_PGPORT:-54349}

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS_DIR=bench/results
OUT=$RESULTS_DIR/bench-$STAMP.json
mkdir -p "$RESULTS_DIR"
GUNICORN_LOG=$RESULTS_DIR/gunicorn-$STAMP.log
REDIS_PID=/tmp/frontline-bench-redis.pid
GUNICORN_PID=""

log() { printf '\n### %s  %s\n' "$(date -u +%H:%M:%S)" "$*"; }

cleanup() {
  set +e
  if [ -n "$GUNICORN_PID" ] && kill -0 "$GUNICORN_PID" 2>/dev/null; then
    kill -TERM "$GUNICORN_PID"
    for _ in $(seq 1 50); do kill -0 "$GUNICORN_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$GUNICORN_PID" 2>/dev/null
  fi
  if [ -s "$REDIS_PID" ]; then
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 \
      || kill "$(cat "$REDIS_PID")" 2>/dev/null
    rm -f "$REDIS_PID"
  fi
  if [ "${BENCH_KEEP:-0}" != 1 ]; then
    bash scripts/pg.sh down
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- prerequisites ----------------------------------------------------------------------------
if ! "$PY" -c 'import uvicorn_worker' 2>/dev/null; then
  # uvicorn.workers is deprecated in uvicorn >= 0.30; the worker class lives in uvicorn-worker.
  "$BIN/pip" install -q uvicorn-worker
fi
if ! command -v redis-server >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi

# --- a fresh private PostgreSQL and Redis ---------------------------------------------------
log "PostgreSQL (fresh cluster in $PG_DIR, port $PGPORT)"
bash scripts/pg.sh down
rm -rf "$PG_DIR"
DATABASE_URL=$(bash scripts/pg.sh up | tail -1)
export DATABASE_URL
log "Redis on 127.0.0.1:$REDIS_PORT"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no \
  --pidfile "$REDIS_PID" --logfile /tmp/frontline-bench-redis.log
for _ in $(seq 1 50); do
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
  sleep 0.1
done

export REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
export SECRET_KEY="bench-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export DEBUG=0
export CELERY_TASK_ALWAYS_EAGER=0
export LOG_LEVEL=WARNING
export FRONTLINE_DATA_DIR=/tmp/frontline-bench-data
export DJANGO_SETTINGS_MODULE=config.settings

log "migrate, admin, token"
"$BIN/frontline" migrate --noinput -v 0
"$BIN/frontline" collectstatic --noinput -v 0  # as `frontline run` does with DEBUG off
"$BIN/frontline" createadmin --username bench --email b@x.test --password benchpass123
TOKEN=$("$BIN/frontline" token create --user bench --name bench --scope write | tail -1)

# --- the server -----------------------------------------------------------------------------
start_server() {
  "$BIN/gunicorn" config.asgi:application -k uvicorn_worker.UvicornWorker -w "$WORKERS" \
    -b "127.0.0.1:$BENCH_PORT" --log-level warning --graceful-timeout 10 \
    >>"$GUNICORN_LOG" 2>&1 &
  GUNICORN_PID=$!
}
log "gunicorn: $WORKERS uvicorn workers on 127.0.0.1:$BENCH_PORT ($(nproc) cores)"
start_server

COMMON=(--base-url "http://127.0.0.1:$BENCH_PORT" --workers "$WORKERS" --out "$OUT"
        --database-url "$DATABASE_URL" --max-requests "$BENCH_MAX_REQUESTS"
        --server-pid "$GUNICORN_PID")
# Measurements wait (up to 45 s) until processes foreign to the benchmark use < 0.25 cores.
wait_quiet() {
  "$PY" -c 'import asyncio, sys; sys.path.insert(0, "bench"); import api_throughput as a
print(f"waited {asyncio.run(a.WATCH.wait_quiet()):.0f}s for a quiet machine")'
}

log "writes and queue page on the small database"
"$PY" bench/api_throughput.py "${COMMON[@]}" --token "$TOKEN" --section small \
  --phase write --phase queue --duration "$BENCH_DURATION" --deep-pages 40
echo "celery tasks waiting in Redis (one per agent reply): $(redis-cli -p "$REDIS_PORT" llen celery)"

log "SQL queries per request, profile of ticket creation (in-process)"
wait_quiet
"$PY" bench/query_counts.py --out "$OUT" --section query_counts --profile "$BENCH_PROFILE"

log "bulk-load $BENCH_TICKETS tickets"
"$PY" bench/bulk_load.py --tickets "$BENCH_TICKETS" --out "$OUT" --section 1m

log "queue page at $BENCH_TICKETS tickets, as the admin"
"$PY" bench/api_throughput.py "${COMMON[@]}" --token "$TOKEN" --section 1m \
  --phase queue --deep-pages 200

log "queue page at $BENCH_TICKETS tickets, as an agent (team visibility rules)"
AGENT_TOKEN=$("$BIN/frontline" token create --user bulk-agent-0-0 --name bench --scope read | tail -1)
"$PY" bench/api_throughput.py "${COMMON[@]}" --token "$AGENT_TOKEN" --section 1m_agent \
  --phase queue --deep-pages 200

log "query plans of the queue page at $BENCH_TICKETS tickets"
"$PY" bench/query_counts.py --out "$OUT" --section 1m --no-counts --explain \
  >"$RESULTS_DIR/explain-$STAMP.txt"
grep -E 'EXPLAIN|Execution Time|Index|Sort|Scan' "$RESULTS_DIR/explain-$STAMP.txt" | head -40

log "summary ($OUT)"
"$PY" bench/api_throughput.py --summary "$OUT"
