# EGSU — the two commands that matter: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: install run demo test lint format lock bench clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml core/pyproject.toml agent/pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e core
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e agent
	touch $@

## Start the system on the embedded default (SQLite under var/) at http://127.0.0.1:$(PORT)
run: install
	$(BIN)/egsu serve --port $(PORT)

## Start the same system with a demo registry and write var/demo/stand.json
demo: install
	$(BIN)/egsu demo --port $(PORT)

## Run the whole test suite: lint, SQLite pass, PostgreSQL pass (servers brought up when missing)
test: install
	scripts/test-all

lint: install
	$(BIN)/ruff check egsu core agent tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/bandit -q -r egsu core/egsu_core agent/egsu_agent -ll -ii -x '*/migrations/*'
	$(BIN)/ruff format --check egsu core agent tests benchmarks

format: install
	$(BIN)/ruff format egsu core agent tests benchmarks
	$(BIN)/ruff check --fix egsu core agent tests benchmarks

## Re-pin every dependency from requirements.in into requirements.lock
lock:
	rm -rf .venv-lock && $(PY) -m venv .venv-lock
	.venv-lock/bin/pip install -q -r requirements.in
	(echo '# Pinned by `make lock` (pip freeze of a fresh venv built from requirements.in). Install with `make install`.'; \
	 .venv-lock/bin/pip freeze --exclude-editable | grep -v '^-e') > requirements.lock
	rm -rf .venv-lock

bench: install
	$(BIN)/python benchmarks/intake.py

clean:
	rm -rf $(VENV) var/test .pytest_cache
