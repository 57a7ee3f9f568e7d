# The two commands of the README are `make run` and `make test`. Each target delegates to a script
# (scripts/run.py, scripts/test.sh) so the logic lives in one testable place.
#   make run                 set up .venv, .env, the database and the demo data; run web + worker + beat
#   make test [ARGS="-k risks"]   the whole test suite (extra pytest arguments in ARGS)
#   make lint                ruff check + ruff format --check
#   make check               migrations up to date, `check --deploy` with production-like settings

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv/bin
ARGS ?=

# Production-like settings for `make check`: DEBUG off, a long secret, HTTPS everywhere.
DEPLOY_ENV := ERPC_ENV_FILE=/nonexistent DEBUG=0 \
	SECRET_KEY=check-deploy-only-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ \
	SECURE_SSL_REDIRECT=1 SECURE_HSTS_SECONDS=31536000 SECURE_HSTS_INCLUDE_SUBDOMAINS=1 SECURE_HSTS_PRELOAD=1

.PHONY: run test lint check format venv-dev clean

run:
	$(PYTHON) scripts/run.py

test:
	scripts/test.sh $(ARGS)

venv-dev:
	@$(PYTHON) scripts/run.py venv requirements-dev.txt

lint: venv-dev
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .

format: venv-dev
	$(VENV)/ruff check --fix .
	$(VENV)/ruff format .

check: venv-dev
	$(DEPLOY_ENV) $(VENV)/python manage.py makemigrations --check --dry-run
	$(DEPLOY_ENV) $(VENV)/python manage.py check --deploy --fail-level WARNING

clean:
	rm -rf var staticfiles .pytest_cache .ruff_cache
