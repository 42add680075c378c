PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install system-deps demo test check bench-quality clean

$(BIN)/newscrawl: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(BIN)/newscrawl

system-deps:
	bash scripts/system-deps.sh

demo: install
	$(BIN)/newscrawl demo

test: install system-deps
	$(BIN)/python -m pytest -q

check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench-quality: install
	$(BIN)/python -m bench.quality

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
