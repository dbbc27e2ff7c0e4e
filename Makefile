# The two set-up commands: `make run` and `make test`. Both create .venv in the checkout when needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test e2e lint install js-clients fuzz bench soak clean

$(STAMP): pyproject.toml sdk/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]" -e ./sdk
	touch $(STAMP)

install: $(STAMP)

# The npm project the SignalR tests drive Microsoft's JavaScript client from (Node 20), installed from its lock.
JS_CLIENT := tests/delivery/signalr/js
$(JS_CLIENT)/node_modules/.package-lock.json: $(JS_CLIENT)/package.json $(JS_CLIENT)/package-lock.json
	cd $(JS_CLIENT) && npm ci --no-audit --no-fund

js-clients: $(JS_CLIENT)/node_modules/.package-lock.json

# Options of `callyard serve` pass through ARGS: make run ARGS="--clock manual --open-control"
ARGS ?=
TEST_WORKERS ?= 2
run: $(STAMP)
	$(BIN)/callyard serve $(ARGS)

# Lint first: ruff over everything, mypy (strict on the core and the event path; see pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples sdk
	$(BIN)/mypy

# Test modules run in parallel, two workers, a module per worker at a time (each worker has its own live
# servers). The schemathesis conformance runs go in a second, single-process run: their parametrised operations
# are not distributed by pytest-xdist, and they compare the operations selected with those reached.
test: lint js-clients
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --ignore=tests/conformance --ignore=tests/e2e
	$(BIN)/python -m pytest tests/conformance

# The console's browser tests: Playwright (the e2e extra) driving Debian's chromium, never a browser download of
# its own. As root it installs chromium when /usr/bin/chromium is missing; they write docs/console/*.png.
CHROMIUM ?= /usr/bin/chromium
e2e: $(STAMP)
	@if [ ! -x "$(CHROMIUM)" ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else echo "e2e needs Chromium at $(CHROMIUM): apt-get install chromium (as root)" >&2; exit 1; fi; fi
	$(BIN)/python -c "import playwright" 2>/dev/null || $(BIN)/python -m pip install --quiet -e ".[test,e2e]"
	CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest tests/e2e -p no:xdist

fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest tests/core/engine/test_state_machine.py \
		tests/core/contact_center/test_agent_state_machine.py
	SCHEMATHESIS_PROFILE=fuzz $(BIN)/python -m pytest tests/conformance

bench: $(STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/store.py

soak: $(STAMP)
	$(BIN)/python bench/soak.py --markdown docs/soak.md --abuse-events 400

clean:
	rm -rf $(VENV) .callyard .pytest_cache $(JS_CLIENT)/node_modules
