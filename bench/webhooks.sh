#!/usr/bin/env bash
# Inbound webhook ingest: signed Twilio SMS webhooks at concurrency 8 and 32 through a real
# server on PostgreSQL, with a Celery worker on Redis. See bench/webhook_ingest.py and
# docs/benchmarks.md. Settings (environment): WEBHOOK_WORKERS (2), WEBHOOK_LEVELS ("8 32"),
# WEBHOOK_DURATION (20 s), WEBHOOK_CELERY_CONCURRENCY (2), WEBHOOK_PORT (8767).
exec bash "$(dirname "$0")/run.sh" webhooks "$@"
