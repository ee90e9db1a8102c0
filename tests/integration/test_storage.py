"""A full disk on the bridge: shown, repair issues, no alarm lost or fired twice, and
nothing done that the bridge could not record.

The bridge's data folder is a real, small tmpfs that the test fills with a real file, as
tests/bridge/storage/test_storage_full.py does: the bridge (a subprocess, as everywhere in these
tests) finds the disk full by itself, releases its 16 MiB reserve, then fails to write,
holds its events and pushes them unstored, and writes them once there is room again.
Mounting a tmpfs needs root (CI runs the tests as root); elsewhere the test is skipped and
says why.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_OFF, STATE_OFF, STATE_ON
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_state_change_event
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.electrical_safety.const import DOMAIN
from tests.small_disk import fill, mounted_small_disk

from .conftest import wait_for_state, wait_until
from .rig import Rig, running_rig

#: The bridge's reserve (16 MiB), its event store, and a few MiB to spare.
TMPFS_SIZE = "24m"
STORAGE = "binary_sensor.electrical_safety_bridge_127_0_0_1_storage"
BREAKER = "switch.kitchen_breaker"
EVENTS = "event.kitchen_alarms"


async def bridge_snapshot(rig: Rig) -> dict[str, Any]:
    """The first message of a new WebSocket client of the bridge: its snapshot."""
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(
            f"http://127.0.0.1:{rig.api_port}/api/v1/ws",
            headers={"Authorization": f"Bearer {rig.token}"},
        ) as socket,
    ):
        message: dict[str, Any] = await socket.receive_json()
    assert message["type"] == "snapshot"
    return message


@pytest.fixture
def rig(
    socket_enabled: None,
    tmp_path: Path,
    units: tuple[tuple[str, int, str], ...],
    offline_after: float,
) -> Iterator[Rig]:
    """The rig, its bridge's data folder on a small tmpfs of its own."""
    with (
        mounted_small_disk(tmp_path / "data", TMPFS_SIZE) as data_dir,
        running_rig(tmp_path, units, offline_after) as running,
    ):
        assert running.data_dir == data_dir
        yield running


async def test_a_full_disk_is_shown_and_no_alarm_is_lost_or_fired_twice(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig, issue_registry: ir.IssueRegistry
) -> None:
    coordinator = loaded_entry.runtime_data
    on_reserve = f"storage_on_reserve_{loaded_entry.entry_id}"
    failing = f"storage_failing_{loaded_entry.entry_id}"
    storage = hass.states.get(STORAGE)
    assert storage.state == STATE_OFF
    assert storage.attributes["state"] == "ok"
    assert storage.attributes["since"] is None
    raised: list[dict] = []

    @callback
    def record(event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        if new is not None and new.attributes.get("event_type") == "alarm_raised":
            raised.append(dict(new.attributes))

    async_track_state_change_event(hass, EVENTS, record)

    # The disk fills up: the bridge releases its reserve, stores on, and says so.
    fill(rig.data_dir, "filler.bin")
    storage = await wait_for_state(hass, STORAGE, lambda s: s.state == STATE_ON)
    assert storage.attributes["state"] == "on_reserve"
    assert isinstance(storage.attributes["since"], datetime)
    assert storage.attributes["since"].tzinfo is not None
    issue = issue_registry.async_get_issue(DOMAIN, on_reserve)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_placeholders["free"].endswith(" MiB")
    assert issue_registry.async_get_issue(DOMAIN, failing) is None

    # The reserve's room fills up too: an alarm now cannot be stored. It is pushed at
    # once, unstored, and fires the event entity all the same.
    fill(rig.data_dir, "filler-2.bin")
    rig.inject({"do": "leakage_ramp", "unit": 1, "to": 450, "seconds": 0.1})
    await wait_until(hass, lambda: len(raised) == 1, "the unstored alarm fired")
    (alarm,) = raised
    assert alarm["seq"] is None, "fired before it was stored"
    assert alarm["channel"] == "residual_current"
    storage = await wait_for_state(hass, STORAGE, lambda s: s.attributes["state"] == "failing")
    assert storage.state == STATE_ON
    assert storage.attributes["held_events"] >= 1
    assert storage.attributes["error"]
    issue = issue_registry.async_get_issue(DOMAIN, failing)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_placeholders["error"]
    assert int(issue.translation_placeholders["held"]) >= 1
    assert issue_registry.async_get_issue(DOMAIN, on_reserve) is None

    # Nothing is done that the bridge could not record: the person is told why.
    with pytest.raises(HomeAssistantError) as refused:
        await hass.services.async_call(
            SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: BREAKER}, blocking=True
        )
    assert refused.value.translation_key == "refused_storage_failing"
    assert "could not record it" in str(refused.value)
    assert hass.states.get(BREAKER).state == STATE_ON
    with pytest.raises(HomeAssistantError) as refused:
        await hass.services.async_call(
            DOMAIN, "acknowledge_alarm", {"alarm_id": alarm["alarm_id"]}, blocking=True
        )
    assert refused.value.translation_key == "refused_storage_failing"

    # A Home Assistant that connects during the outage hears of the held alarm from its
    # snapshot: the bridge's real snapshot, given to a coordinator that never heard it.
    snapshot = await bridge_snapshot(rig)
    held = [e for e in snapshot["held_events"] if e["data"].get("id") == alarm["alarm_id"]]
    assert len(held) == 1
    assert held[0]["seq"] is None and held[0]["stored"] is False
    coordinator._unstored.clear()
    await coordinator._async_handle(json.dumps(snapshot))
    await wait_until(hass, lambda: len(raised) == 2, "the held alarm fired from the snapshot")
    await coordinator._async_handle(json.dumps(snapshot))  # heard already: nothing more
    assert len(raised) == 2

    # Room again: the held alarm is stored, under the id it was pushed with, and its
    # stored copy moves the integration's place in the log on without firing again.
    (rig.data_dir / "filler-2.bin").unlink()
    (rig.data_dir / "filler.bin").unlink()
    await wait_for_state(hass, STORAGE, lambda s: s.state == STATE_OFF)
    stored = [
        event
        for event in rig.get("/events?type=alarm_raised")["events"]
        if event["data"]["id"] == alarm["alarm_id"]
    ]
    assert len(stored) == 1
    await wait_until(
        hass, lambda: (coordinator._seen_seq or 0) >= stored[0]["seq"], "the stored copy heard"
    )
    assert len(raised) == 2, "the stored copy of an alarm already fired fires nothing"
    assert not coordinator._unstored
    assert issue_registry.async_get_issue(DOMAIN, failing) is None
    assert issue_registry.async_get_issue(DOMAIN, on_reserve) is None
    assert hass.states.get(STORAGE).attributes["held_events"] == 0

    # Recorded again, so done again.
    await hass.services.async_call(
        DOMAIN, "acknowledge_alarm", {"alarm_id": alarm["alarm_id"]}, blocking=True
    )
