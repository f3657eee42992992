#!/usr/bin/env bash
# Live chat fan-out benchmark: 500 visitor websockets and agents through a real server, with
# the in-memory channel layer and with Redis. See bench/chat_fanout.py and docs/benchmarks.md.
# Settings (environment): CHAT_WORKERS (2), CHAT_ARGS (extra flags for chat_fanout.py),
# CHAT_CELERY=0 (no Celery worker), CHAT_PORT (8766). It is `bench/run.sh chat`, which shares
# the PostgreSQL, Redis, admin and token setup with `make bench`.
exec bash "$(dirname "$0")/run.sh" chat "$@"
