# The project's vocabulary. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Plugins `make run` enables (comma-separated; `make run PLUGINS=` for none).
PLUGINS ?= qr_login,totp

.PHONY: run test e2e screenshots constraints lint fmt migration migrate bench install dev-install browser redis clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt constraints.txt requirements-otel.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime $@

install: $(VENV)/.runtime
dev-install: $(VENV)/.dev

migrate: install  ## apply migrations to DATABASE_URL (default: SQLite in data/)
	PLUGINS=$(PLUGINS) $(BIN)/alembic upgrade heads

run: migrate  ## serve on http://127.0.0.1:8000 (the Procfile's server, in development mode)
	PLUGINS=$(PLUGINS) $(BIN)/uvicorn app.main:app --host $(HOST) --port $(PORT) \
		--http app.protocol:HTTPProtocol --no-proxy-headers --no-server-header --ws none --no-access-log

browser:  ## Debian's Chromium for the browser tests
	bash scripts/install-chromium.sh

redis:  ## Debian's redis-server for the rate-limit tests (they start their own)
	sh scripts/install-redis.sh

test: dev-install browser redis  ## the whole suite against PostgreSQL at TEST_DATABASE_URL
	$(BIN)/pytest

e2e: dev-install browser  ## only the browser tests
	$(BIN)/pytest -m e2e tests/e2e

screenshots: dev-install browser  ## refresh the README's pictures in docs/screenshots
	UPDATE_SCREENSHOTS=1 $(BIN)/pytest -m e2e tests/e2e/test_account.py tests/e2e/test_totp.py tests/e2e/test_qr_login.py

lint: dev-install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app tests bench examples
	$(BIN)/lint-imports --no-cache

fmt: dev-install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The core's newest revision (plugins' branches have heads of their own: head=qr_login@head).
CORE_HEAD = $$($(BIN)/python -c 'import os; from alembic.config import Config; \
	from alembic.script import ScriptDirectory as D; s = D.from_config(Config("alembic.ini")); \
	print(*[h for h in s.get_heads() if os.path.dirname(s.get_revision(h).path) \
	== os.path.abspath("migrations/versions")])')

migration: dev-install  ## make migration m="add a column" (head=qr_login@head for a plugin's)
	$(BIN)/alembic revision --autogenerate --head $(or $(head),$(CORE_HEAD)) -m "$(m)"

constraints:  ## re-pin every runtime package (transitive ones too) after editing requirements*.txt
	rm -rf .constraints-venv && $(PYTHON) -m venv .constraints-venv
	sed '/^-c /d' requirements.txt requirements-otel.txt > .constraints-venv/requirements.txt
	.constraints-venv/bin/pip install --quiet -r .constraints-venv/requirements.txt
	{ head -2 constraints.txt; .constraints-venv/bin/pip freeze; } > constraints.tmp && mv constraints.tmp constraints.txt
	rm -rf .constraints-venv

bench: dev-install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
