# Every target builds its own virtual environment on first use, so a fresh clone needs only python3.
PY ?= python3
# The state-machine test runs 500 examples here and in CI (issue: >= 500 in CI).
export HYPOTHESIS_PROFILE ?= ci
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit clean bench soak

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/cti serve --broker embedded --log-level info

lint: $(STAMP)
	$(BIN)/ruff check cti phone_sim tests bench
	$(BIN)/ruff format --check cti phone_sim tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

test: lint typecheck unit

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

# Benchmarks: a table on the console and bench/results.json (numbers in BENCHMARKS.md).
bench: $(STAMP)
	$(BIN)/python -m bench

# Soak (not in CI): SOAK_MINUTES of calls while memory is watched.
soak: $(STAMP)
	$(BIN)/python -m bench.soak
