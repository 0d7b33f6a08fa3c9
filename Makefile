# Two commands do all the setup on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench chaos lock schemas clean

$(STAMP): requirements.lock pyproject.toml setup.py services/common/_chainlink.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/hub run --demo

test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest -m "not integration and not e2e"

# At least 100 kills of every kind of process, the broker restarted empty and
# PostgreSQL restarted under load; prints what it did and what it checked.
chaos: $(STAMP)
	$(BIN)/python -m tests.chaos.run --kills 120

bench: $(STAMP)
	$(BIN)/python -m bench.run

schemas: $(STAMP)
	$(BIN)/python -m contracts.export
	$(BIN)/python -m services.partner_gateway.export
	$(BIN)/python -m services.partner_gateway.docs
	$(BIN)/python -m contracts.asyncapi
	$(BIN)/python -m services.openapi_export
	$(BIN)/python -m services.rulebook

# Regenerates the lock file (needs `uv`, a development tool, not needed by run/test).
lock:
	uv pip compile pyproject.toml --extra dev --python-version 3.11 --no-header -o requirements.lock

clean:
	rm -rf $(VENV) .hub
