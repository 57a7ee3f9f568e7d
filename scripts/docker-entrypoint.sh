#!/bin/sh
# Entry point of the image. The web container (the one that runs gunicorn) migrates the database
# first, and loads the demo data when LOAD_DEMO=1; worker and beat start straight away.
set -eu

if [ "${1:-}" = "gunicorn" ]; then
    python manage.py migrate --noinput
    if [ "${LOAD_DEMO:-0}" = "1" ]; then
        python manage.py load_demo
    fi
fi

exec "$@"
