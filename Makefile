# Arc Eval: `make run` sets up and serves the product; `make test` runs the tests.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

# The newest Python >= 3.12 on PATH or in pyenv (Django 6.1 needs 3.12).
find_python = $(shell for c in python3.14 python3.13 python3.12 python3; do \
	  $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { command -v $$c; exit 0; }; done; \
	  if command -v pyenv >/dev/null; then v=$$(pyenv versions --bare 2>/dev/null | grep -E '^3\.1[2-9]' | sort -V | tail -n1); \
	  [ -n "$$v" ] && echo "$$(pyenv root)/versions/$$v/bin/python3"; fi)

.PHONY: run test install worker beat faults lint audit bench-ingest clean

$(VENV)/.installed: pyproject.toml sdk/pyproject.toml
	@py="$(call find_python)"; \
	if [ -z "$$py" ]; then echo "Arc Eval needs Python 3.12 or newer: install it (e.g. 'apt-get install python3.12' or 'pyenv install 3.13') and run make again." >&2; exit 1; fi; \
	[ -x $(PY) ] || "$$py" -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]" -e sdk
	@touch $@

install: $(VENV)/.installed

# Ends with one block (URL, login, API key, next command), printed once the server answers.
run: install
	@echo "Setting up the database and the demo organisation…"
	@$(PY) manage.py migrate --noinput -v0
	@ready="$$(LOG_LEVEL=WARNING $(PY) manage.py seed_demo --url http://$(HOST):$(PORT))" || exit 1; \
	( for _ in $$(seq 1 120); do \
	    $(PY) -c "import socket; socket.create_connection(('$(HOST)', $(PORT)), 1)" 2>/dev/null \
	      && { printf '%s\n\n' "$$ready"; exit 0; }; sleep 0.5; done ) & \
	DJANGO_RUNSERVER_HIDE_WARNING=true exec $(PY) manage.py runserver $(HOST):$(PORT)

worker: install
	$(VENV)/bin/celery -A arcweb worker --loglevel=INFO --concurrency=2

beat: install
	$(VENV)/bin/celery -A arcweb beat --loglevel=INFO --schedule var/celerybeat-schedule

# Tests run on the real PostgreSQL and Redis of this machine unless told otherwise.
test: install
	DATABASE_URL="$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/arc}" \
	REDIS_URL="$${REDIS_URL:-redis://127.0.0.1:6379/15}" \
	$(PY) -m pytest -p no:cacheprovider tests sdk/tests

lint: install
	$(VENV)/bin/ruff check .
	$(PY) manage.py makemigrations --check --dry-run

# Known vulnerabilities in the installed dependencies (needs PyPI's JSON API; the suite also checks them).
audit: install
	$(VENV)/bin/pip-audit --local --skip-editable

bench-ingest: install
	$(PY) bench/ingest.py

clean:
	rm -rf $(VENV) var staticfiles
