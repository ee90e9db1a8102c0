"""Fixtures of the integration tests: Home Assistant's harness and a real bridge."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from unittest.mock import patch

import pytest
import pytest_socket
from homeassistant.const import Platform
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, State, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import paths, props
from syrupy.types import PropertyFilter, PropertyName, PropertyPath

from custom_components.electrical_safety.const import DOMAIN

from .rig import BRIDGE_ID, DEFAULT_UNITS, BridgeEnvironmentError, Rig, bridge_python, running_rig

HA_WAIT_S = 15.0  # bound on a pushed change reaching a Home Assistant state
RECHECK_S = 0.05

#: What the bridge measures, which changes from run to run: the line time of its alarm
#: polls (the state of the alarm-round sensors) and the free space of its data folder.
#: States that move with the clock, not with the rig: a bus's alarm round, and when a
#: detector's next self-test is due (the next 10:00 from today).
MEASURED_STATE_SUFFIX = ("_alarm_round", "_next_self_test")
MEASURED_ATTRIBUTES = props("free_bytes", "longest_alarm_gap", "alarm_cycle")
_STATE = paths("state")


def _measured_state(*, prop: PropertyName, path: PropertyPath) -> bool:
    return MEASURED_ATTRIBUTES(prop=prop, path=path) or _STATE(prop=prop, path=path)


def pytest_configure(config: pytest.Config) -> None:
    """Say at once, not in every test, when the bridge's environment is missing."""
    try:
        bridge_python()
    except BridgeEnvironmentError as err:
        raise pytest.UsageError(str(err)) from None


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/electrical_safety."""


@pytest.fixture(autouse=True)
def fast_reconnect() -> Generator[None]:
    """Reconnect within a tenth of a second rather than the seconds a home can afford."""
    with (
        patch("custom_components.electrical_safety.coordinator.RECONNECT_MIN", 0.05),
        patch("custom_components.electrical_safety.coordinator.RECONNECT_MAX", 0.2),
    ):
        yield


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots in Home Assistant's serialization (ids and timestamps left out)."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Every entity enabled, the noisy diagnostics too (for the snapshots)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
    ):
        yield


@pytest.fixture
def units() -> tuple[tuple[str, int, str], ...]:
    """The detectors of the rig; a test overrides it to change the bus."""
    return DEFAULT_UNITS


@pytest.fixture
def offline_after() -> float:
    """Seconds of silence before the rig's bridge calls a unit offline."""
    return 3.0


@pytest.fixture
def rig(
    socket_enabled: None,
    tmp_path: Path,
    units: tuple[tuple[str, int, str], ...],
    offline_after: float,
) -> Iterator[Rig]:
    """A simulator and a bridge of its own, for a test that changes their state.

    On 127.0.0.1, the only host pytest-socket lets Home Assistant's harness reach.
    """
    with running_rig(tmp_path, units, offline_after) as rig:
        yield rig


@pytest.fixture(scope="session")
def shared_rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    """One simulator and bridge for every test that only reads them (flows, snapshots).

    pytest-socket is switched off per test, so a session fixture lifts it for its own
    start-up and puts it back.
    """
    blocked = socket.socket is not pytest_socket._true_socket
    pytest_socket.enable_socket()
    try:
        context = running_rig(tmp_path_factory.mktemp("shared-rig"))
        rig = context.__enter__()
    finally:
        if blocked:
            pytest_socket.disable_socket(allow_unix_socket=True)
    try:
        yield rig
    finally:
        context.__exit__(None, None, None)


@pytest.fixture
def bridge_rig(request: pytest.FixtureRequest, socket_enabled: None) -> Rig:
    """The bridge a test's entry points at: its own when the test asks for ``rig`` (to
    change the devices' state), else the shared one."""
    if "rig" in request.fixturenames:
        return request.getfixturevalue("rig")  # type: ignore[no-any-return]
    return request.getfixturevalue("shared_rig")  # type: ignore[no-any-return]


@pytest.fixture
def platforms() -> list[Platform] | None:
    """The platforms to load; None for all of them."""
    return None


@pytest.fixture
def config_entry(bridge_rig: Rig) -> MockConfigEntry:
    """The entry of the test's bridge."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Electrical Safety bridge (127.0.0.1)",
        unique_id=BRIDGE_ID,
        data=bridge_rig.entry_data(),
    )


@pytest.fixture
async def loaded_entry(
    hass: HomeAssistant, config_entry: MockConfigEntry, platforms: list[Platform] | None
) -> MockConfigEntry:
    """The rig's bridge set up in Home Assistant, its WebSocket connected."""
    config_entry.add_to_hass(hass)
    if platforms is None:
        assert await hass.config_entries.async_setup(config_entry.entry_id)
    else:
        with patch("custom_components.electrical_safety.PLATFORMS", platforms):
            assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    coordinator = config_entry.runtime_data
    await wait_until(hass, lambda: coordinator.connected, "the WebSocket's snapshot")
    return config_entry


def find_device(hass: HomeAssistant, identifier: str) -> dr.DeviceEntry | None:
    """The device identified by ``(DOMAIN, identifier)``, looked for among the devices of
    the integration's config entries (Home Assistant 2026.8's harness refuses
    ``DeviceRegistry.async_get_device``)."""
    registry = dr.async_get(hass)
    found = {
        device.id: device
        for entry in hass.config_entries.async_entries(DOMAIN)
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id)
        if (DOMAIN, identifier) in device.identifiers
    }
    assert len(found) <= 1, found
    return next(iter(found.values()), None)


async def snapshot_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    config_entry_id: str,
) -> None:
    """``snapshot_platform``, leaving out what the bridge measures (see MEASURED_*)."""
    entries = er.async_entries_for_config_entry(entity_registry, config_entry_id)
    assert entries
    assert len({entry.domain for entry in entries}) == 1, "load one platform"
    for entry in entries:
        assert entry == snapshot(name=f"{entry.entity_id}-entry")
        assert entry.disabled_by is None, "enable every entity"
        state = hass.states.get(entry.entity_id)
        assert state, f"no state for {entry.entity_id}"
        exclude: PropertyFilter = MEASURED_ATTRIBUTES
        if entry.entity_id.endswith(MEASURED_STATE_SUFFIX):
            exclude = _measured_state
        assert state == snapshot(name=f"{entry.entity_id}-state", exclude=exclude)


async def wait_until(
    hass: HomeAssistant,
    predicate: Callable[[], bool],
    what: str,
    timeout: float = HA_WAIT_S,  # noqa: ASYNC109 - a bound, not a cancel scope
) -> None:
    """Return as soon as ``predicate()`` holds; fail after ``timeout`` seconds.

    It is re-checked whenever a state changes or the coordinator pushes, and at least
    every ``RECHECK_S`` for conditions nothing announces (a reconnect attempt, a flow).
    """
    changed = asyncio.Event()

    @callback
    def wake(_: Event[EventStateChangedData] | None = None) -> None:
        changed.set()

    removers = [hass.bus.async_listen("state_changed", wake)]
    for entry in hass.config_entries.async_entries(DOMAIN):
        coordinator = getattr(entry, "runtime_data", None)
        if coordinator is not None:
            removers.append(coordinator.async_add_listener(wake))
    try:
        async with asyncio.timeout(timeout):
            while not predicate():
                changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), RECHECK_S)
    except TimeoutError:
        raise AssertionError(f"not reached within {timeout} s: {what}") from None
    finally:
        for remover in removers:
            remover()


async def wait_for_state(
    hass: HomeAssistant,
    entity_id: str,
    predicate: Callable[[State], bool],
    timeout: float = HA_WAIT_S,  # noqa: ASYNC109
) -> State:
    """The entity's state as soon as ``predicate`` holds for it."""
    found: list[State] = []

    def check() -> bool:
        state = hass.states.get(entity_id)
        if state is not None and predicate(state):
            found.append(state)
            return True
        return False

    await wait_until(hass, check, f"state of {entity_id}", timeout)
    return found[-1]
