# Two commands do all the set-up on a fresh machine: `make test` and `make demo`.
#
# Three virtual environments, each built on first use by scripts/venv:
#   .venv-bridge  the bridge's own pins (addon/requirements.txt) and the tools that test and
#                 check it (requirements-bridge.txt): tests/bridge, relay, addon, bench, test_*.py
#   .venv         Home Assistant 2026.2.3's test harness (requirements-ha.txt): tests/integration
#   .venv-ha-min  Home Assistant 2025.4.4's, the minimum hacs.json declares
#                 (requirements-ha-min.txt): the tests marked minimum_ha
# Their interpreter is the one scripts/python313 prints: a Python >= 3.13.2 found on this
# machine, or 3.13.5 built once into ~/.cache/electrical-safety (PYTHON=/path overrides).
SHELL := /bin/bash
.DEFAULT_GOAL := test

BRIDGE_VENV := .venv-bridge
HA_VENV := .venv
HA_MIN_VENV := .venv-ha-min
HA_NEWEST_VENV := .venv-ha-newest

# Each environment has electrical-safety-bridge installed editable from addon/ (scripts/venv
# --package): code edits are live, but its metadata (the version Home Assistant checks against
# the manifest's requirement) is written at install, so a new version reinstalls it.
PACKAGE_SOURCES := addon/pyproject.toml addon/electrical_safety_bridge/__init__.py

BRIDGE_STAMP := $(BRIDGE_VENV)/.installed
HA_STAMP := $(HA_VENV)/.installed
HA_MIN_STAMP := $(HA_MIN_VENV)/.installed
DEMO_STAMP := $(HA_VENV)/.demo-installed

# The integration tests (tests/integration/rig.py), the demo and the latency bench start the
# bridge and its simulator with the bridge environment's interpreter, and Home Assistant with
# its environment's hass: never one environment importing the other's packages.
export BRIDGE_PYTHON ?= $(abspath $(BRIDGE_VENV)/bin/python)
export HASS_BIN ?= $(abspath $(HA_VENV)/bin/hass)

BRIDGE_TESTS := tests/common tests/demo tests/bridge tests/relay tests/addon tests/bench $(wildcard tests/test_*.py)

# The newest harness, for a contributor with a newer Python (not part of `make test`):
#   make test-newest NEWEST_PYTHON=python3.14 [NEWEST_HARNESS=pytest-homeassistant-custom-component==0.13.N]
NEWEST_PYTHON ?= python3.14
NEWEST_HARNESS ?= pytest-homeassistant-custom-component

.PHONY: test lint typecheck typecheck-bridge typecheck-integration test-bridge \
	test-integration test-minimum test-browser test-e2e test-newest snapshot-update contract-update forward-wheel demo demo-bridge bench fuzz \
	bench-latency bench-faults clean

$(BRIDGE_STAMP): requirements-bridge.txt addon/requirements.txt $(PACKAGE_SOURCES) scripts/venv scripts/python313
	scripts/venv --package $(BRIDGE_VENV) requirements-bridge.txt
	@touch $@

$(HA_STAMP): requirements-ha.txt $(PACKAGE_SOURCES) scripts/venv scripts/python313
	scripts/venv --package $(HA_VENV) requirements-ha.txt
	@touch $@

$(HA_MIN_STAMP): requirements-ha-min.txt $(PACKAGE_SOURCES) scripts/venv scripts/python313
	scripts/venv --package $(HA_MIN_VENV) requirements-ha-min.txt
	@touch $@

# ruff needs no imports: one run, in the bridge environment, covers the whole tree.
lint: $(BRIDGE_STAMP)
	$(BRIDGE_VENV)/bin/ruff check .
	$(BRIDGE_VENV)/bin/ruff format --check .

# mypy --strict (pyproject.toml), each part against the packages of its own environment.
typecheck-bridge: $(BRIDGE_STAMP)
	$(BRIDGE_VENV)/bin/mypy --cache-dir .mypy_cache/bridge addon/electrical_safety_bridge bench demo

typecheck-integration: $(HA_STAMP)
	$(HA_VENV)/bin/mypy --cache-dir .mypy_cache/ha custom_components/electrical_safety

typecheck: typecheck-bridge typecheck-integration

test-bridge: $(BRIDGE_STAMP)
	$(BRIDGE_VENV)/bin/python -m pytest -q $(BRIDGE_TESTS)

# Line coverage of the integration must stay at 95 % or more. sys.monitoring keeps the
# coverage run nearly as fast as a plain one on Python 3.13.
test-integration: $(HA_STAMP) $(BRIDGE_STAMP)
	COVERAGE_CORE=sysmon $(HA_VENV)/bin/python -m pytest -q tests/integration \
		--cov=custom_components/electrical_safety --cov-report=term-missing --cov-fail-under=95

# The declared minimum, Home Assistant 2025.4.4: set-up, the config flow and one entity of
# each platform (the tests marked minimum_ha; snapshots are 2026.2.3's format, left out).
test-minimum: $(HA_MIN_STAMP) $(BRIDGE_STAMP)
	$(HA_MIN_VENV)/bin/python -m pytest -q -m minimum_ha tests/integration

# The whole integration suite on the newest harness the registry serves, on NEWEST_PYTHON.
test-newest: $(BRIDGE_STAMP)
	scripts/venv --python $(NEWEST_PYTHON) --upgrade $(HA_NEWEST_VENV) "$(NEWEST_HARNESS)"
	$(HA_NEWEST_VENV)/bin/python -m pytest -q tests/integration

# The newest Home Assistant's wheel, for the forward check (tests/integration/
# test_forward_names.py reads it without installing it: it needs Python 3.14). Not part of
# `make test`: the package registry these machines reach does not serve it.
FORWARD_VERSION := 2026.11.0
forward-wheel: $(HA_STAMP)
	$(HA_VENV)/bin/python -m pip download --quiet --no-deps --only-binary=:all: \
		--python-version 3.14 --dest .forward-wheels homeassistant==$(FORWARD_VERSION)

# Rewrite the integration's snapshots for the primary target; read `git diff` before committing.
snapshot-update: $(HA_STAMP) $(BRIDGE_STAMP)
	$(HA_VENV)/bin/python -m pytest -q tests/integration --snapshot-update

# Record the wire contract again from a running bridge (tests/fixtures/contract, read by
# both sides' tests) after a deliberate change of it; read `git diff` before committing.
contract-update: $(BRIDGE_STAMP)
	UPDATE_CONTRACT_FIXTURES=1 $(BRIDGE_VENV)/bin/python -m pytest -q tests/bridge/api/test_contract_fixtures.py

# `make demo`'s Home Assistant in Debian's headless Chromium (tests/browser): log in through
# the login page, acknowledge an alarm from the dashboard, screenshots in en, zh-Hans and ja
# into .artifacts/browser/. The test runs from .venv-bridge (Selenium), hass from .venv.
test-browser: $(DEMO_STAMP) $(BRIDGE_STAMP)
	$(BRIDGE_VENV)/bin/python -m pytest -q -rA tests/browser
	@echo "screenshots: $(abspath .artifacts/browser)"

# The whole chain, every part real (tests/e2e): the simulator on a pseudo-terminal with wire
# timing, the bridge process, a real Mosquitto and its landlord's subscriber, a real `hass`
# with the integration, and a central `hass` fed by two sites through MQTT discovery. The
# tests run from .venv-bridge (aiomqtt, aiohttp); the bridge from .venv-bridge
# (BRIDGE_PYTHON), Home Assistant from .venv with what `make demo` adds to it (HASS_BIN).
test-e2e: $(DEMO_STAMP) $(BRIDGE_STAMP)
	$(BRIDGE_VENV)/bin/python -m pytest -q -rA --durations=0 tests/e2e

# The bridge suite and the integration suite run one after the other (two cores).
test: lint typecheck test-bridge test-integration test-minimum test-browser test-e2e

$(DEMO_STAMP): $(HA_STAMP) demo/requirements.txt
	$(HA_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r demo/requirements.txt
	@touch $@

# The bridge on a simulated bus of four detectors (from .venv-bridge), and Home Assistant at
# http://127.0.0.1:8123 (from .venv) with the integration set up; the owner's login is printed.
demo: $(DEMO_STAMP) $(BRIDGE_STAMP)
	$(BRIDGE_VENV)/bin/python demo/home_assistant_demo.py

# The bridge alone on the simulated bus, printing its story (no Home Assistant).
demo-bridge: $(BRIDGE_STAMP)
	$(BRIDGE_VENV)/bin/python -m electrical_safety_bridge run --demo --data-dir demo-data/bridge --api-port 8765

# Every benchmark in bench/ (bench/run_all.py finds them), one after another, then
# bench/RESULTS.md from their figures. Home Assistant runs from .venv (HASS_BIN, with the
# frontend `make demo` adds); the gateway is also compared with mbusd when MBUSD_BIN names
# one (Debian has no package: build upstream 3cky/mbusd with cmake).
bench: $(DEMO_STAMP) $(BRIDGE_STAMP)
	$(BRIDGE_VENV)/bin/python bench/run_all.py

# The fuzzers' long runs (bench/fuzz_*.py, FUZZ_CASES each, or the target's default): each
# prints its case count and every crash, hang or 5xx as `name: value`, and fails if it found
# any. `make test` runs each briefly with a fixed seed (tests/**/test_fuzz_*.py).
FUZZ_CASES ?=
fuzz: $(BRIDGE_STAMP)
	@for target in gateway api websocket relay profiles; do \
		$(BRIDGE_VENV)/bin/python bench/fuzz_$$target.py $(if $(FUZZ_CASES),--cases $(FUZZ_CASES)) || exit 1; \
	done

# The fault matrix at full length (about half an hour; tests/bridge/fault_matrix.py).
bench-faults: $(BRIDGE_STAMP)
	$(BRIDGE_VENV)/bin/python bench/fault_soak.py

# Alarm bit to Home Assistant state and to an MQTT subscriber: the bridge's simulator in
# .venv-bridge, hass from .venv with what a real `hass` process needs besides the harness
# (the frontend, which Home Assistant always loads, and the to-do platform's intents), which
# `make test` installs too (test-browser).
bench-latency: $(DEMO_STAMP) $(BRIDGE_STAMP)
	$(BRIDGE_VENV)/bin/python bench/alarm_latency.py

clean:
	rm -rf $(BRIDGE_VENV) $(HA_VENV) $(HA_MIN_VENV) $(HA_NEWEST_VENV) .forward-wheels .mypy_cache .ruff_cache \
		.pytest_cache
