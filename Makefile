# The README's two commands, plus the checks we run before committing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt

.PHONY: demo test check fix bench system-deps clean

demo: $(VENV)/.installed node_modules/.installed
	$(BIN)/neighbourhood demo

test: $(VENV)/.installed-test node_modules/.installed system-deps
	$(BIN)/pytest

check: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fix: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.installed
	$(BIN)/neighbourhood bench synth

system-deps:
	@scripts/system-deps

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV) || { scripts/system-deps python3-venv && $(PYTHON) -m venv $(VENV); }

$(VENV)/.installed: $(VENV)/bin/python pyproject.toml constraints.txt
	$(PIP) -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/bin/python pyproject.toml constraints.txt
	$(PIP) -e '.[test,spark,bench]'
	touch $@ $(VENV)/.installed

# The NHS.UK frontend and axe-core, from the npm registry, exactly as package-lock.json pins.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || scripts/system-deps nodejs npm
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
