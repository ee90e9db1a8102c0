"""The end-to-end tests' shared parts: one throwaway PKI and the environments' programs.

Each test module starts its own chain once (module-scoped fixtures) and its tests share it:
the simulator on a pseudo-terminal with wire timing, the bridge process, a real Mosquitto
(``tests/relay/helpers.py``), real Home Assistants (``home_assistant.py``) and a subscriber
standing in for the landlord. The tests run from the bridge's environment (``.venv-bridge``:
aiomqtt, aiohttp); the bridge and its simulator run on ``BRIDGE_PYTHON`` and Home Assistant
on ``HASS_BIN`` (``.venv``), both set by ``make test-e2e``.
"""

from __future__ import annotations

import pytest

from demo import home_assistant_demo as demo
from tests.integration.rig import BridgeEnvironmentError, bridge_python
from tests.relay.helpers import Pki, make_pki


def pytest_configure(config: pytest.Config) -> None:
    """Say at once, not in every test, when an environment's program is missing."""
    try:
        bridge_python()
        demo.hass_executable()
    except (BridgeEnvironmentError, SystemExit) as err:
        raise pytest.UsageError(f"{err} (`make test-e2e` sets both)") from None


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))
