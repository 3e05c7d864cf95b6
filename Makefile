# Two entry points for newcomers: `make run` (server on SQLite) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench bench-smoke install install-test node-deps clean

$(BIN)/convbatch: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.test-deps: $(BIN)/convbatch
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

install: $(BIN)/convbatch
install-test: $(VENV)/.test-deps

# The official Node SDK for tests/e2e/test_node_sdk.py, exactly as locked; reinstalled only when
# the lock file changes. Without npm the Node suite is skipped (CI installs npm first).
NODE_STAMP := tests/node/node_modules/.installed
$(NODE_STAMP): tests/node/package-lock.json
	cd tests/node && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

node-deps:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) -s $(NODE_STAMP); \
	else echo "npm not found: the Node SDK suite will be skipped"; fi

# Loopback is opened so webhooks and http channels can reach a developer's local receiver
# (tenants' URLs are otherwise refused there; see "Security" in the README).
run: install
	CONVBATCH_OUTBOUND_ALLOW="$${CONVBATCH_OUTBOUND_ALLOW-127.0.0.0/8,::1}" $(BIN)/convbatch serve

test: install-test node-deps
	scripts/ensure-postgres.sh
	$(BIN)/python -m pytest

lint: install-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

# Benchmarks are never tests: `bench` is the full run (several minutes, rewrites
# bench/RESULTS.md), `bench-smoke` runs every scenario at tiny sizes to check the harness.
bench-smoke: install-test
	scripts/ensure-postgres.sh
	$(BIN)/python -m bench.run --smoke

bench: install-test
	scripts/ensure-postgres.sh
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) convbatch.db convbatch.db-wal convbatch.db-shm
