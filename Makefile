# Frontline: the one entry point. `make run` to try it, `make test` to prove it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install run demo test test-sqlite test-postgres lint format schema bench clean

$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

install: $(BIN)/.installed

run: install ## install, migrate, seed the demo once, serve on http://$(HOST):$(PORT)
	$(BIN)/frontline migrate --noinput -v 0
	$(BIN)/frontline demo --once --url http://$(HOST):$(PORT)
	$(BIN)/frontline run --host $(HOST) --port $(PORT)

demo: install
	$(BIN)/frontline demo

test: install lint ## lint, then the whole suite on SQLite and again on a real PostgreSQL
	bash scripts/test-deps.sh
	$(BIN)/frontline makemigrations --check --dry-run
	$(MAKE) test-sqlite
	$(MAKE) test-postgres

test-sqlite: install
	$(BIN)/python -m pytest

test-postgres: install
	bash scripts/test-postgres.sh $(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

schema: install ## regenerate the committed OpenAPI document
	$(BIN)/frontline export_openapi_schema --api frontline.api.api.api --indent 2 --sorted --output docs/openapi.json

bench: install ## benchmarks against a real server on PostgreSQL (see docs/benchmarks.md)
	bash bench/run.sh

clean:
	rm -rf $(VENV) var build *.egg-info .pytest_cache .mypy_cache .ruff_cache
