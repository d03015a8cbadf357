# TKPK: the one entry point for developers and CI (.ci/run calls `make test` and `make test-sqlite`).
#
#   make run          embedded default: SQLite + in-process tasks, demo data, http://127.0.0.1:8000
#   make test         lint + types + migrations check + whole pytest suite on PostgreSQL, Redis, real worker
#   make test-sqlite  pytest on the embedded default (skips postgres / celery_worker / e2e tests)
#
# Service-backed targets use DATABASE_URL / CELERY_BROKER_URL from the environment when set, else the
# defaults below. `make run`, `worker` and `beat` use only what the environment (or .env) says.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-print-directory

PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
CTL := LOG_LEVEL=ERROR $(PY) scripts/tkpkctl.py

# make run
REGION ?= 33.24
FAMILIES ?= 5000
SEED ?= 42
HOST ?= 127.0.0.1
PORT ?= 8000

# make test / e2e / bench: the user's environment wins over these defaults.
PG_DATABASE_URL := $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/tkpk)
PG_BROKER_URL := $(or $(CELERY_BROKER_URL),redis://127.0.0.1:6379/15)
WITH_SERVICES := env DATABASE_URL='$(PG_DATABASE_URL)' CELERY_BROKER_URL='$(PG_BROKER_URL)'
# TKPK_TEST_REQUIRE_SERVICES=1: tests/conftest.py fails (never skips) when PostgreSQL/broker/worker/browser is missing.
WITH_SERVICES_STRICT := $(WITH_SERVICES) TKPK_TEST_REQUIRE_SERVICES=1
EMBEDDED := env -u DATABASE_URL -u CELERY_BROKER_URL -u CELERY_RESULT_BACKEND -u TKPK_TEST_REQUIRE_SERVICES

PYTEST := $(PY) -m pytest
PYTEST_ARGS ?=
# The SQLite pass checks the embedded default. Browser journeys (e2e) run once, in the PostgreSQL pass:
# they exercise the same views and would only double the CI time.
SQLITE_MARKERS := not postgres and not celery_worker and not e2e

REQ_STAMP := $(VENV)/.requirements.stamp
DEV_STAMP := $(VENV)/.requirements-dev.stamp

.PHONY: help setup run deps dev-deps migrate demo messages messages-if-possible lint types migrations-check test test-sqlite \
	e2e bench worker beat clean-venv

help:
	@echo "TKPK make targets:"
	@echo "  run          venv + requirements + migrate + wilayah $(REGION) + data demo, lalu server http://$(HOST):$(PORT)"
	@echo "  setup        venv + requirements + migrate (tanpa server)"
	@echo "  test         lint, types, makemigrations --check, pytest on PostgreSQL + Redis + real Celery worker"
	@echo "  test-sqlite  pytest on SQLite + eager tasks (deselects: $(SQLITE_MARKERS))"
	@echo "  lint types messages e2e bench worker beat"

# ------------------------------------------------------------------------------------------- environment

$(PY):
	$(PYTHON) -m venv $(VENV)

# Stamps: reinstall only when a requirements file changed (or the venv is new).
$(REQ_STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check --quiet -r requirements.txt
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check --quiet -r requirements-dev.txt
	touch $(REQ_STAMP) $@

deps: $(REQ_STAMP)

dev-deps: $(DEV_STAMP)

clean-venv:
	rm -rf $(VENV)

migrate: deps
	$(CTL) ensure-database
	$(MANAGE) migrate --noinput

setup: migrate messages-if-possible

# ------------------------------------------------------------------------------------------- run

demo: setup
	$(MANAGE) load_regions $(REGION)
	PYTHONUNBUFFERED=1 $(MANAGE) seed_demo --region $(REGION) --families $(FAMILIES) --seed $(SEED) | tee $(VENV)/demo-logins.txt

run: demo
	$(CTL) collectstatic-if-needed
	@echo
	@echo "=== Login demo (juga tersimpan di $(VENV)/demo-logins.txt) ==="
	@sed -n '/AKUN DEMO/,$$p' $(VENV)/demo-logins.txt | grep . || grep -v '^  \.\.\. ' $(VENV)/demo-logins.txt
	@echo "=== Server: http://$(HOST):$(PORT)/  (Ctrl-C untuk berhenti) ==="
	$(MANAGE) runserver $(HOST):$(PORT)

worker: deps
	$(CTL) require-broker
	$(VENV)/bin/celery -A tkpk worker --loglevel=info

# Exactly one beat per deployment; the schedule lives in the database (django-celery-beat).
beat: deps
	$(CTL) require-broker
	$(MANAGE) setup_schedules
	$(VENV)/bin/celery -A tkpk beat --loglevel=info --scheduler django_celery_beat.schedulers:DatabaseScheduler

# ------------------------------------------------------------------------------------------- checks

lint: dev-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

types: dev-deps
	$(VENV)/bin/mypy .

# Compile translations when the project has locale folders (needs gettext's msgfmt).
LOCALE_DIRS = $(shell find . -path ./$(VENV) -prune -o -path ./node_modules -prune -o -type d -name locale -print 2>/dev/null)

messages: deps
	@if [ -n "$(LOCALE_DIRS)" ]; then \
		$(MANAGE) compilemessages --ignore=$(VENV) --ignore=node_modules; \
	else echo "messages: no locale directory, nothing to compile"; fi

# `make run` must work without gettext: compile when msgfmt is there, otherwise say so.
messages-if-possible: deps
	@if [ -n "$(LOCALE_DIRS)" ] && ! command -v msgfmt >/dev/null; then \
		echo "messages: msgfmt not found (apt-get install -y gettext); translations not compiled"; \
	else $(MAKE) messages; fi

migrations-check: dev-deps
	$(WITH_SERVICES) $(CTL) ensure-database
	$(WITH_SERVICES) $(MANAGE) makemigrations --check --dry-run

# pytest's own exit codes stand: 5 ("no tests collected") fails the target like any other error.
test: dev-deps
	$(MAKE) lint
	$(MAKE) types
	$(MAKE) migrations-check
	$(MAKE) messages
	$(WITH_SERVICES_STRICT) $(PYTEST) $(PYTEST_ARGS)

test-sqlite: dev-deps
	@if [ -f .env ] && grep -qE '^\s*(export\s+)?(DATABASE_URL|CELERY_BROKER_URL)\s*=' .env; then \
		echo "test-sqlite: .env sets DATABASE_URL or CELERY_BROKER_URL and settings.py would read it; move .env away" >&2; \
		exit 1; fi
	$(MAKE) messages
	$(EMBEDDED) $(PYTEST) -m "$(SQLITE_MARKERS)" $(PYTEST_ARGS)

e2e: dev-deps
	$(MAKE) messages
	$(WITH_SERVICES_STRICT) $(PYTEST) -m e2e $(PYTEST_ARGS)

bench: dev-deps
	@shopt -s nullglob; scripts=(bench/[!_]*.py); \
	if [ $${#scripts[@]} -eq 0 ]; then echo "bench: no bench/*.py"; exit 0; fi; \
	$(WITH_SERVICES) $(CTL) ensure-database; \
	$(WITH_SERVICES) $(MANAGE) migrate --noinput; \
	for script in "$${scripts[@]}"; do echo "== $$script"; $(WITH_SERVICES) $(PY) "$$script"; done
