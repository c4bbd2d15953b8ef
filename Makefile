# The two commands a new user runs: `make demo` and `make test`. Both create .venv when needed.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-slow chaos bench lint format wheel clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/chipwatch demo

test: $(STAMP)
	$(BIN)/pytest -q

test-slow: $(STAMP)
	$(BIN)/pytest -q -m slow

# The chaos suite in full: every fault, and twenty seeded SIGKILLs of crawls mid-write.
chaos: $(STAMP)
	$(BIN)/pytest -q -m 'chaos or not chaos' tests/test_chaos.py

# Every benchmark, about 15 minutes (the first run also generates a million-article database in data/bench).
bench: $(STAMP)
	$(BIN)/chipwatch bench --out BENCHMARKS.md

# ruff for style and mistakes, mypy for types (the packages' settings are in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The wheel a user installs (into dist/).
wheel: $(STAMP)
	$(BIN)/python -m build --wheel --outdir dist .

clean:
	rm -rf $(VENV) data/demo.db* .pytest_cache .mypy_cache dist build
