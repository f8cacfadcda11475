# Qiantang three-colour warning system: the two commands (`make run`, `make test`) and helpers.
# GNU make. Everything runs from a virtual environment in .venv, installed from the lock files.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
PY := $(BIN)/python
# uv installs the locked stack in seconds; it lives inside .venv so a fresh machine needs only Python.
UV_VERSION := 0.13.9
UV := UV_PYTHON_DOWNLOADS=never $(BIN)/uv
ENV_STAMP := $(VENV)/.installed
# The local settings file for this machine (git-ignored): DEBUG=1 and a SECRET_KEY made once.
LOCAL_ENV := .env

# `make run`
WEB_HOST ?= 127.0.0.1
WEB_PORT ?= 8000
DEMO_PASSWORD ?= qiantang-demo
DEMO_PROJECTS ?= 260

# `make test`: PostgreSQL and Redis on loopback unless the environment says otherwise.
TEST_DATABASE_URL_DEFAULT := postgres://postgres@127.0.0.1:5432/qiantang
TEST_REDIS_URL_DEFAULT := redis://127.0.0.1:6379/15
PYTEST_ARGS ?=
JUNIT_DIR ?=
junit = $(if $(JUNIT_DIR),--junitxml=$(JUNIT_DIR)/$(1).xml)

# `make bench`: the sizes it builds (PostgreSQL and Redis on loopback, as for make test).
BENCH_SIZES ?= 260 10000 100000
BENCH_ARGS ?=

.PHONY: help env run test bench lock messages clean

help:
	@echo "make run    install if needed, migrate, seed demo data, start web + worker + beat"
	@echo "make test   install if needed, run the whole test suite (PostgreSQL + Redis on loopback)"
	@echo "make bench  build 260, 10,000 and 100,000 projects and print every figure (bench/README.md)"
	@echo "make env    create .venv, install the locked dependencies, write .env if missing"
	@echo "make lock   re-resolve requirements*.lock from the ranges in pyproject.toml"
	@echo "make messages  update locale/en (makemessages) and compile the catalogues"
	@echo "make clean  remove .venv and var/ (the SQLite database and the embedded broker)"

env: $(ENV_STAMP) $(LOCAL_ENV)

# Written once, never overwritten: manage.py, Celery and gunicorn read it (qiantang/env.py), so
# every command of the README works in a new shell. Variables set in the environment win.
# Production sets its variables instead (docker-compose.yml: .env.example).
$(LOCAL_ENV):
	@umask 077; { \
	    echo "# Local settings of this checkout, written by make env; not committed (.gitignore)."; \
	    echo "# manage.py, Celery and gunicorn read it; variables set in the environment win."; \
	    echo "# Production sets real environment variables instead (see README, Configuration)."; \
	    echo "DEBUG=1"; \
	    echo "SECRET_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')"; \
	} > $@.tmp && mv $@.tmp $@
	@echo "wrote $(LOCAL_ENV): DEBUG=1 and a new SECRET_KEY for this machine"

# The venv itself and uv inside it (pinned). A venv made by other means may lack pip: ensurepip.
$(VENV)/.uv-$(UV_VERSION):
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip --version >/dev/null 2>&1 || $(PY) -m ensurepip --upgrade >/dev/null
	$(PY) -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	@touch $@

# Re-installs only when the ranges or the locks change. `uv pip install` (not `sync`) so that uv
# does not uninstall itself; the project goes in editable (see README: the warnings/ folder).
$(ENV_STAMP): $(VENV)/.uv-$(UV_VERSION) pyproject.toml requirements.lock requirements-dev.lock
	$(UV) pip install --quiet --python $(PY) -r requirements-dev.lock
	$(UV) pip install --quiet --python $(PY) --no-deps -e .
	@# A range added to pyproject.toml without `make lock` shows up here, not at import time.
	$(UV) pip check --quiet --python $(PY) || { echo "requirements*.lock do not satisfy pyproject.toml: run make lock"; exit 1; }
	@touch $@

run: $(ENV_STAMP) $(LOCAL_ENV)
	@set -euo pipefail; \
	export PATH="$(BIN):$$PATH" DEBUG="$${DEBUG-1}" WEB_HOST="$(WEB_HOST)" WEB_PORT="$(WEB_PORT)"; \
	python manage.py migrate --noinput; \
	case "$$DEBUG" in 1|true|True|yes|on) ;; *) python manage.py collectstatic --noinput -v 0 ;; esac; \
	python manage.py seed_demo --if-empty --projects "$(DEMO_PROJECTS)" --password "$(DEMO_PASSWORD)"; \
	echo; \
	echo "  Qiantang three-colour warning system (钱塘区重点项目三色预警)"; \
	echo "  Site:   http://$(WEB_HOST):$(WEB_PORT)/"; \
	echo "  Admin:  http://$(WEB_HOST):$(WEB_PORT)/admin/"; \
	echo "  Log in: office (投资管理科, administers everything), leader (领导, read-only),"; \
	echo "          cadre1, cadre2, ... (项目干部), liaison1, ... (部门联络员)"; \
	echo "          password: $(DEMO_PASSWORD)"; \
	echo "          (accounts seeded earlier keep the password they were seeded with)"; \
	echo "  Ctrl-C stops the web server, the Celery worker and beat."; \
	echo; \
	exec honcho --env /dev/null start --procfile Procfile

# Two pytest sessions: the browser tests get their own. Playwright's sync API leaves an asyncio
# loop running in pytest's thread once a browser test has run (Django then hands later tests
# fresh connection objects), and tests/browser sets DJANGO_ALLOW_ASYNC_UNSAFE; neither should
# reach the rest of the suite. (A single `pytest` run works too: tests/browser/conftest.py
# carries the serialized test data over to the new connections.)
# PYTEST_ARGS (-x, -k ..., --lf) go to both; with a selection, one session may select nothing.
# JUNIT_DIR=dir writes dir/main.xml and dir/browser.xml (.ci/run reads them).
test: $(ENV_STAMP) $(LOCAL_ENV)
	@export DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL_DEFAULT)}" \
	       TEST_REDIS_URL="$${TEST_REDIS_URL:-$(TEST_REDIS_URL_DEFAULT)}" \
	       PATH="$(BIN):$$PATH"; \
	main=0; browser=0; \
	echo "pytest --ignore=tests/browser $(PYTEST_ARGS)"; \
	$(PY) -m pytest --ignore=tests/browser $(call junit,main) $(PYTEST_ARGS) || main=$$?; \
	echo "pytest tests/browser $(PYTEST_ARGS)"; \
	$(PY) -m pytest tests/browser $(call junit,browser) $(PYTEST_ARGS) || browser=$$?; \
	if [ -n "$(strip $(PYTEST_ARGS))" ] && [ "$$main$$browser" != 55 ]; then \
	    [ $$main = 5 ] && main=0; [ $$browser = 5 ] && browser=0; \
	fi; \
	if [ $$main != 0 ] || [ $$browser != 0 ]; then \
	    echo "make test: FAILED (pytest exit status: main suite $$main, browser tests $$browser)"; exit 1; \
	fi

# One table: recompute (in-process, 1 and 2 workers) against the SQL floor, dashboard pages
# against static files, a locust load run. See bench/README.md; 9-11 minutes here with 100,000.
bench: $(ENV_STAMP)
	$(PY) bench/run.py --sizes $(BENCH_SIZES) $(BENCH_ARGS)

lock: $(VENV)/.uv-$(UV_VERSION)
	$(UV) pip compile pyproject.toml --extra dev --universal --python-version 3.11 -q -o requirements-dev.lock
	$(UV) pip compile pyproject.toml --universal --python-version 3.11 -c requirements-dev.lock -q -o requirements.lock

messages: $(ENV_STAMP)
	DEBUG=1 $(PY) manage.py makemessages -l en --no-obsolete --ignore=.venv --ignore=tests --ignore=bench --ignore=staticfiles --ignore=var
	DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var
