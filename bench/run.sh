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
#
# `bash bench/run.sh chat` (= `bash bench/chat.sh`) runs the live chat fan-out instead: the same
# PostgreSQL/Redis/admin/token setup (own dirs and ports), then the section "live chat fan-out"
# below; results in bench/results/chat-<stamp>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-api}
case "$MODE" in api | chat | webhooks) ;; *) echo "usage: $0 [api|chat|webhooks]" >&2; exit 2 ;; esac

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
DATA_DIR=/tmp/frontline-bench-data
if [ "$MODE" = chat ]; then  # its own everything, so it can run beside `make bench`
  BENCH_PORT=${CHAT_PORT:-8766}
  REDIS_PORT=${CHAT_REDIS_PORT:-63801}
  PG_DIR=/tmp/frontline-pg-chat
  PGPORT=${CHAT_PGPORT:-54351}
  DATA_DIR=/tmp/frontline-chat-data
fi

if [ "$MODE" = webhooks ]; then  # likewise
  BENCH_PORT=${WEBHOOK_PORT:-8767}
  REDIS_PORT=${WEBHOOK_REDIS_PORT:-63803}
  PG_DIR=/tmp/frontline-pg-webhooks
  PGPORT=${WEBHOOK_PGPORT:-54353}
  DATA_DIR=/tmp/frontline-webhooks-data
fi

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS_DIR=bench/results
OUT=$RESULTS_DIR/bench-$STAMP.json
[ "$MODE" = chat ] && OUT=$RESULTS_DIR/chat-$STAMP.json
[ "$MODE" = webhooks ] && OUT=$RESULTS_DIR/webhooks-$STAMP.json
mkdir -p "$RESULTS_DIR"
GUNICORN_LOG=$RESULTS_DIR/gunicorn-$STAMP.log
REDIS_PID=/tmp/frontline-$MODE-bench-redis.pid
GUNICORN_PID=""
CELERY_PID=""

log() { printf '\n### %s  %s\n' "$(date -u +%H:%M:%S)" "$*"; }

stop_pid() {  # TERM, up to 10 s, then KILL
  if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
    kill -TERM "$1"
    for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$1" 2>/dev/null || true
  fi
  return 0
}

cleanup() {
  set +e
  stop_pid "$GUNICORN_PID"
  stop_pid "$CELERY_PID"
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
  --pidfile "$REDIS_PID" --logfile "/tmp/frontline-$MODE-bench-redis.log"
for _ in $(seq 1 50); do
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
  sleep 0.1
done

export REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
export SECRET_KEY="bench-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export DEBUG=0
export CELERY_TASK_ALWAYS_EAGER=0
export LOG_LEVEL=WARNING
[ "$MODE" = chat ] && rm -rf "$DATA_DIR"  # its SQLite Celery broker starts empty
export FRONTLINE_DATA_DIR=$DATA_DIR
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
# Measurements wait (up to 45 s) until processes foreign to the benchmark use < 0.25 cores.
wait_quiet() {
  "$PY" -c 'import asyncio, sys; sys.path.insert(0, "bench"); import api_throughput as a
print(f"waited {asyncio.run(a.WATCH.wait_quiet()):.0f}s for a quiet machine")'
}

# === live chat fan-out (`bash bench/chat.sh`): the in-memory layer, then Redis ================
# In-memory: embedded mode as `frontline run` starts it, one uvicorn process (the layer only
# reaches its own process) and a Celery worker on the SQLite broker. Redis: gunicorn with
# CHAT_WORKERS (2) uvicorn workers and a Celery worker on Redis. One database for both.
# Each layer runs once per rate of CHAT_RATES ("20 50" msg/s, both directions together), with
# fresh visitors each time; sections "<layer>-<rate>" in the results. CHAT_LAYERS picks the
# layers ("memory redis").
# CHAT_ARGS adds flags to bench/chat_fanout.py (e.g. "--messages 2"); CHAT_CELERY=0: no worker.
# CHAT_TIMINGS=1 runs the in-memory server instrumented (chat_fanout.py --serve: the shared
# sync thread's jobs timed, SQL counted and profiled; slower, for diagnosis, not for figures).
# CHAT_REDIS_FIX=1 runs the Redis layer with a settings override (a module written to the data
# dir, not the repo): no socket read timeout and up to 1000 connections for channels_redis's
# pool (redis-py >= 6 defaults: 5 s, 100), see docs/benchmarks.md "Live chat fan-out".
if [ "$MODE" = chat ]; then
  CHAT_COMMAND="bash bench/chat.sh"  # as typed: only the knobs that were set
  for knob in CHAT_LAYERS CHAT_ARGS CHAT_RATES CHAT_WORKERS CHAT_CELERY CHAT_TIMINGS CHAT_REDIS_FIX; do
    [ -n "${!knob:-}" ] && CHAT_COMMAND="$knob='${!knob}' $CHAT_COMMAND"
  done
  WORKERS=${CHAT_WORKERS:-2}
  CHAT_RATES=${CHAT_RATES:-20 50}
  CHAT_LAYERS=${CHAT_LAYERS:-memory redis}
  read -r -a CHAT_ARGS <<<"${CHAT_ARGS:-}"
  SITE_KEY=$("$PY" bench/chat_fanout.py --setup-widget https://shop.bench.test | tail -1)
  celery_start() {
    if [ "${CHAT_CELERY:-1}" = 1 ]; then
      "$@" "$BIN/celery" -A config worker --pool solo --loglevel warning --without-gossip \
        --without-mingle --without-heartbeat >>"$GUNICORN_LOG" 2>&1 &
      CELERY_PID=$!
    fi
  }
  chat_layer() {  # $1 layer, $2 server description, $3 Redis URL (if any)
    for rate in $CHAT_RATES; do
      wait_quiet  # also lets the server finish any backlog of the previous rate
      "$PY" bench/chat_fanout.py --base-url "http://127.0.0.1:$BENCH_PORT" \
        --site-key="$SITE_KEY" --token="$TOKEN" --agent-user bench \
        --agent-password=benchpass123 --layer "$1-$rate" --rate "$rate" --server-desc "$2" \
        --server-pid "$GUNICORN_PID" ${CELERY_PID:+--worker-pid "$CELERY_PID"} \
        --database-url "$DATABASE_URL" ${3:+--redis-url "$3"} --out "$OUT" \
        --command "$CHAT_COMMAND" "${CHAT_ARGS[@]}"
    done
    stop_pid "$GUNICORN_PID"
    stop_pid "$CELERY_PID"
    GUNICORN_PID="" CELERY_PID=""
  }
  if [[ " $CHAT_LAYERS " == *" memory "* ]]; then
    log "chat, in-memory layer: 1 uvicorn process + Celery worker (SQLite broker)"
    TIMINGS=""
    if [ "${CHAT_TIMINGS:-0}" = 1 ]; then
      TIMINGS=$RESULTS_DIR/chat-$STAMP-memory-timings.json
      env -u REDIS_URL "$PY" bench/chat_fanout.py --serve "127.0.0.1:$BENCH_PORT" \
        --serve-timings "$TIMINGS" --serve-profile "${TIMINGS%-timings.json}.prof" \
        >>"$GUNICORN_LOG" 2>&1 &
    else
      env -u REDIS_URL "$PY" -m uvicorn config.asgi:application --host 127.0.0.1 \
        --port "$BENCH_PORT" --log-level warning --no-server-header >>"$GUNICORN_LOG" 2>&1 &
    fi
    GUNICORN_PID=$!
    celery_start env -u REDIS_URL
    chat_layer memory "uvicorn, 1 process, in-memory channel layer${TIMINGS:+ (instrumented)}"
    for rate in $CHAT_RATES; do
      if [ -n "$TIMINGS" ]; then
        "$PY" bench/chat_fanout.py --merge-timings "$TIMINGS" --out "$OUT" --layer "memory-$rate"
      fi
    done
  fi
  if [[ " $CHAT_LAYERS " == *" redis "* ]]; then
    log "chat, Redis layer: gunicorn + $WORKERS uvicorn workers + Celery worker (Redis broker)"
    REDIS_DESC="gunicorn, $WORKERS uvicorn workers, Redis channel layer"
    if [ "${CHAT_REDIS_FIX:-0}" = 1 ]; then
      cat >"$DATA_DIR/chat_bench_settings.py" <<'PY'
from config.settings import *  # noqa: F403

CHANNEL_LAYERS["default"]["CONFIG"]["hosts"] = [  # noqa: F405
    {"address": REDIS_URL, "socket_timeout": None, "max_connections": 1000}  # noqa: F405
]
PY
      export PYTHONPATH=$DATA_DIR DJANGO_SETTINGS_MODULE=chat_bench_settings
      REDIS_DESC="$REDIS_DESC (override: no socket timeout, pool of 1000)"
    fi
    start_server
    celery_start env
    chat_layer redis "$REDIS_DESC" "$REDIS_URL"
  fi
  log "summary ($OUT)"
  "$PY" bench/chat_fanout.py --summary "$OUT"
  exit 0
fi

# === inbound webhooks (`bash bench/webhooks.sh`) ==============================================
# gunicorn with WEBHOOK_WORKERS (2) uvicorn workers acknowledges signed Twilio SMS webhooks;
# a Celery worker (prefork, WEBHOOK_CELERY_CONCURRENCY processes, 2) on Redis processes them.
# One level per concurrency of WEBHOOK_LEVELS ("8 32"), WEBHOOK_DURATION (20) s each; then the
# level's backlog is drained before the next. Results in bench/results/webhooks-<stamp>.json.
if [ "$MODE" = webhooks ]; then
  WEBHOOK_COMMAND="bash bench/webhooks.sh"
  for knob in WEBHOOK_WORKERS WEBHOOK_CELERY_CONCURRENCY WEBHOOK_LEVELS WEBHOOK_DURATION WEBHOOK_CELERY; do
    [ -n "${!knob:-}" ] && WEBHOOK_COMMAND="$knob='${!knob}' $WEBHOOK_COMMAND"
  done
  WORKERS=${WEBHOOK_WORKERS:-2}
  read -r KEY ACCOUNT_SID AUTH_TOKEN < <("$PY" bench/webhook_ingest.py --setup-account | tail -1)
  start_server
  WEBHOOK_DESC="gunicorn, $WORKERS uvicorn workers; Celery prefork x${WEBHOOK_CELERY_CONCURRENCY:-2} on Redis"
  if [ "${WEBHOOK_CELERY:-1}" = 1 ]; then
    "$BIN/celery" -A config worker --pool prefork --concurrency "${WEBHOOK_CELERY_CONCURRENCY:-2}" \
      --loglevel warning --without-gossip --without-mingle --without-heartbeat \
      >>"$GUNICORN_LOG" 2>&1 &
    CELERY_PID=$!
  else  # acknowledgement alone: payloads stay queued, nothing becomes visible
    WEBHOOK_DESC="gunicorn, $WORKERS uvicorn workers; no Celery worker (ack path alone)"
  fi
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$BENCH_PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.2
  done
  DRAIN=600
  [ -z "$CELERY_PID" ] && DRAIN=0
  for level in ${WEBHOOK_LEVELS:-8 32}; do
    log "webhooks at concurrency $level"
    "$PY" bench/webhook_ingest.py --base-url "http://127.0.0.1:$BENCH_PORT" --key "$KEY" \
      --account-sid "$ACCOUNT_SID" --auth-token "$AUTH_TOKEN" --database-url "$DATABASE_URL" \
      --concurrency "$level" --duration "${WEBHOOK_DURATION:-20}" --section "c$level" \
      --server-desc "$WEBHOOK_DESC" --drain-timeout "$DRAIN" --server-pid "$GUNICORN_PID" \
      ${CELERY_PID:+--worker-pid "$CELERY_PID"} \
      --command "$WEBHOOK_COMMAND" --out "$OUT"
  done
  log "summary ($OUT)"
  "$PY" bench/webhook_ingest.py --summary "$OUT"
  exit 0
fi

log "gunicorn: $WORKERS uvicorn workers on 127.0.0.1:$BENCH_PORT ($(nproc) cores)"
start_server

COMMON=(--base-url "http://127.0.0.1:$BENCH_PORT" --workers "$WORKERS" --out "$OUT"
        --database-url "$DATABASE_URL" --max-requests "$BENCH_MAX_REQUESTS"
        --server-pid "$GUNICORN_PID")

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
