# Two commands do all the set-up on a fresh machine: `make test` and `make demo`.
SHELL := /bin/bash
PYTHON_VERSION := $(shell cat .python-version)
# pyenv's interpreter when present (CI and these machines), else python3.13 on PATH.
PYTHON ?= $(shell p="$$(pyenv root 2>/dev/null)/versions/$(PYTHON_VERSION)/bin/python3"; \
	[ -x "$$p" ] && echo "$$p" || command -v python3.13 || echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint typecheck pytest demo bench clean

$(STAMP): requirements-dev.txt addon/requirements.txt
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy addon/electrical_safety_bridge custom_components/electrical_safety bench demo

pytest: $(STAMP)
	$(BIN)/python -m pytest -q

test: lint typecheck pytest

# The bridge on a simulated bus of several detectors, printing live values and alarms.
demo: $(STAMP)
	PYTHONPATH=addon $(BIN)/python -m electrical_safety_bridge run --demo --data-dir demo-data --api-port 8765

bench: $(STAMP)
	PYTHONPATH=addon $(BIN)/python bench/bus_sweep.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
