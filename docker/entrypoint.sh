#!/bin/sh
# Runs before each container's command. The web container sets MIGRATE_ON_START=1 and
# brings the database schema up to date; the worker and beat start once web is healthy.
set -eu

if [ "${MIGRATE_ON_START:-0}" = "1" ]; then
    python manage.py migrate --noinput
fi

exec "$@"
