#!/usr/bin/env bash
# Run a command against a private PostgreSQL started here and stopped afterwards.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export PG_DIR=${PG_DIR:-/tmp/frontline-pg-test}
export PGPORT=${PGPORT:-54339}
DATABASE_URL=$(bash "$here/pg.sh" up)
export DATABASE_URL
trap 'bash "$here/pg.sh" down' EXIT
"$@"
