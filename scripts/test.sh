#!/usr/bin/env bash
# `make test`: set up what the suite needs, then run it. Extra arguments go to pytest
# (make test ARGS="-k risks" or scripts/test.sh tests/plans -x).
#
# - .venv with requirements-dev.txt (skipped when unchanged, see scripts/run.py).
# - Chromium for the browser tests: installed with apt-get when missing and we are root; otherwise
#   the browser tests skip themselves, except under CI=true where a missing Chromium fails them.
# - DATABASE_URL set → the suite runs on PostgreSQL; unset → SQLite. The developer's .env is ignored.
# - Two pytest-xdist workers by default (--dist loadfile keeps each file in one worker, so a
#   module's fixtures are built once); TEST_WORKERS=0 runs in one process, TEST_WORKERS=4 uses four.
#   A -n given in the arguments wins, as it comes last.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="$(command -v python3.11 || command -v python3)"
"$PYTHON" scripts/run.py venv requirements-dev.txt

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> Installing Chromium for the browser tests (apt-get)"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }; then
        echo "==> Could not install Chromium" >&2
    fi
fi
if [ ! -x "$CHROMIUM" ]; then
    if [ "${CI:-}" = "true" ]; then
        echo "==> Chromium is missing at $CHROMIUM and CI=true: the browser tests must run" >&2
        exit 1
    fi
    echo "==> Chromium not found at $CHROMIUM: the browser tests will be skipped"
fi

if [ -n "${DATABASE_URL:-}" ]; then
    echo "==> Database: ${DATABASE_URL%%://*} (DATABASE_URL)"
else
    echo "==> Database: SQLite"
fi

workers="${TEST_WORKERS:-2}"
if [ "$workers" = "0" ]; then
    exec .venv/bin/pytest "$@"
fi
exec .venv/bin/pytest -n "$workers" --dist loadfile "$@"
