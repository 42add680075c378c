PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install system-deps demo test unit check bench-quality clean

$(BIN)/newscrawl: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

# The project's own modules compiled ahead: an editable install writes no bytecode, and where
# PYTHONDONTWRITEBYTECODE is set (containers often set it) every run would compile them again,
# 75 ms of each crawl's start-up and as much in its extraction forkserver. Python recompiles a
# module whose source is newer than its bytecode, so a stale file costs only that module.
install: $(BIN)/newscrawl
	$(BIN)/python -m compileall -q crawler storage

system-deps:
	bash scripts/system-deps.sh

demo: install
	$(BIN)/newscrawl demo

# The whole suite: unit and integration tests (Redis and Chromium from system-deps).
test: install system-deps
	$(BIN)/python -m pytest -q

# The fast unit tests: no system package, no server, a few seconds.
unit: install
	$(BIN)/python -m pytest -q tests/unit -m "not slow"

# Lint, format, types and the package rules (ARCHITECTURE.md).
check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench-quality: install
	$(BIN)/python -m bench.quality

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
