# Two entry points: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck unit clean bench system vscode

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,serve,queue,bench]'
	touch $(STAMP)

demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

test: system $(STAMP) vscode lint typecheck unit

# The real components the tests drive (redis-server, chromium, ...), installed when missing.
system:
	bash scripts/setup-system.sh

# The VS Code extension's npm tools (the grammar test runner), exactly as the lockfile says.
VSCODE := editors/vscode
$(VSCODE)/node_modules/.package-lock.json: $(VSCODE)/package-lock.json
	npm ci --prefix $(VSCODE) --no-audit --no-fund --loglevel=error

vscode: $(VSCODE)/node_modules/.package-lock.json

lint: $(STAMP)
	$(BIN)/ruff check compiler tests benchmarks
	$(BIN)/ruff format --check compiler tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -n 2 -q

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python benchmarks/compare_sdk.py
	$(BIN)/python benchmarks/check_speed.py
	$(BIN)/python benchmarks/check_speed.py --one-file
	$(BIN)/python benchmarks/lsp_latency.py
	$(BIN)/python benchmarks/delivery.py

clean:
	rm -rf $(VENV) .capic_cache build dist .pytest_cache .mypy_cache .ruff_cache $(VSCODE)/node_modules
