# The two set-up commands: `make run` and `make test`. Both create .venv in the checkout when needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint install fuzz bench soak clean

$(STAMP): pyproject.toml sdk/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]" -e ./sdk
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/callyard serve

# Lint first: ruff over everything, mypy (strict on the core and the event path; see pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples sdk
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest tests/core/engine/test_state_machine.py
	SCHEMATHESIS_PROFILE=fuzz $(BIN)/python -m pytest tests/conformance

bench: $(STAMP)
	$(BIN)/python bench/run.py

soak: $(STAMP)
	$(BIN)/python bench/soak.py --markdown docs/soak.md --abuse-events 400

clean:
	rm -rf $(VENV) .callyard .pytest_cache
