# Two commands do all the set-up on a fresh machine: `make test` and `make demo`.
SHELL := /bin/bash
PYTHON_VERSION := $(shell cat .python-version)
# pyenv's interpreter when present (CI and these machines), else python3.13 on PATH.
PYTHON ?= $(shell p="$$(pyenv root 2>/dev/null)/versions/$(PYTHON_VERSION)/bin/python3"; \
	[ -x "$$p" ] && echo "$$p" || command -v python3.13 || echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint typecheck pytest demo demo-bridge bench clean

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

# Line coverage of the integration must stay at 95 % or more. sys.monitoring keeps the
# coverage run nearly as fast as a plain one on Python 3.13.
pytest: $(STAMP)
	COVERAGE_CORE=sysmon $(BIN)/python -m pytest -q --cov=custom_components/electrical_safety \
		--cov-report=term-missing --cov-fail-under=95

test: lint typecheck pytest

DEMO_STAMP := $(VENV)/.demo-installed

$(DEMO_STAMP): $(STAMP) demo/requirements.txt
	$(BIN)/python -m pip install --quiet -r demo/requirements.txt
	@touch $(DEMO_STAMP)

# The bridge on a simulated bus of four detectors, and Home Assistant at
# http://127.0.0.1:8123 with the integration set up; the owner's login is printed.
demo: $(DEMO_STAMP)
	$(BIN)/python demo/home_assistant_demo.py

# The bridge alone on the simulated bus, printing its story (no Home Assistant).
demo-bridge: $(STAMP)
	PYTHONPATH=addon $(BIN)/python -m electrical_safety_bridge run --demo --data-dir demo-data/bridge --api-port 8765

bench: $(STAMP)
	PYTHONPATH=addon $(BIN)/python bench/bus_sweep.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
