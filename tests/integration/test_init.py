"""Set-up, unload, the push connection's life, dynamic devices and repair issues."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import area_registry as ar
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.electrical_safety import async_remove_config_entry_device
from custom_components.electrical_safety.const import DOMAIN
from custom_components.electrical_safety.coordinator import ElectricalSafetyCoordinator
from electrical_safety_bridge.common.models import BridgeEvent

from .conftest import find_device, wait_for_state, wait_until
from .rig import BRIDGE_ID, DEFAULT_UNITS, Rig, free_port

RESIDUAL = "sensor.kitchen_residual_current"
BRIDGE = "electrical_safety_bridge_127_0_0_1"
#: The site's device: one per bridge, identified by the bridge's id.
SITE_DEVICE = f"{BRIDGE_ID}/site"
STORAGE = f"binary_sensor.{BRIDGE}_storage"
OVERLOADED = f"binary_sensor.{BRIDGE}_bus_line_1_overloaded"
ROUND = f"sensor.{BRIDGE}_bus_line_1_alarm_round"


def _logged(caplog: pytest.LogCaptureFixture, text: str) -> int:
    """How many of the integration's own log records say ``text``."""
    return sum(
        text in record.getMessage()
        for record in caplog.records
        if record.name == "custom_components.electrical_safety"
    )


def _reauth_flows(hass: HomeAssistant) -> list:
    return [
        flow
        for flow in hass.config_entries.flow.async_progress()
        if flow["context"]["source"] == SOURCE_REAUTH
    ]


@pytest.mark.minimum_ha
async def test_setup_and_unload(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    assert loaded_entry.state is ConfigEntryState.LOADED
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert loaded_entry.state is ConfigEntryState.NOT_LOADED
    assert hass.states.get(RESIDUAL).state == STATE_UNAVAILABLE


async def test_devices(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """One device per detector, each through the site's device, and the site's through the
    bridge's own device."""
    devices = dr.async_entries_for_config_entry(device_registry, loaded_entry.entry_id)
    bridge, site = find_device(hass, BRIDGE_ID), find_device(hass, SITE_DEVICE)
    assert bridge is not None and site is not None
    assert bridge.via_device_id is None
    assert (site.name, site.model, site.via_device_id) == ("Test flat", "Site", bridge.id)
    assert len(devices) == len(DEFAULT_UNITS) + 2
    assert {d.via_device_id for d in devices if d.id not in (bridge.id, site.id)} == {site.id}
    assert sorted(devices, key=lambda d: d.name or "") == snapshot


@pytest.mark.minimum_ha
async def test_an_unreachable_bridge_is_retried(hass: HomeAssistant, socket_enabled: None) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=BRIDGE_ID,
        data={"host": "127.0.0.1", "port": free_port(), "token": "t"},
    )
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY


@pytest.mark.minimum_ha
async def test_a_wrong_token_asks_for_a_new_one(hass: HomeAssistant, bridge_rig: Rig) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id=BRIDGE_ID, data={**bridge_rig.entry_data(), "token": "wrong"}
    )
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert _reauth_flows(hass)


async def test_another_bridge_at_the_address_is_not_taken_for_this_one(
    hass: HomeAssistant, bridge_rig: Rig
) -> None:
    entry = MockConfigEntry(domain=DOMAIN, unique_id="another-bridge", data=bridge_rig.entry_data())
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.reason is not None
    assert entry.reason.startswith("Another bridge (test-bridge) answers at this address")


async def test_another_bridge_on_reconnect_leaves_the_entities_unavailable(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    """The address now answers with another bridge's id: none of its data is shown as ours."""
    coordinator = loaded_entry.runtime_data
    rig.stop_bridge()
    await wait_until(hass, lambda: not coordinator.connected, "the connection lost")
    rig.bridge_id = "impostor"
    rig.start_bridge()
    tries = coordinator.reconnects
    await wait_until(hass, lambda: coordinator.reconnects >= tries + 2, "retries")
    assert not coordinator.connected
    assert hass.states.get(RESIDUAL).state == STATE_UNAVAILABLE


async def test_bridge_down_and_back_is_logged_once_each(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    rig: Rig,
    caplog: pytest.LogCaptureFixture,
) -> None:
    coordinator = loaded_entry.runtime_data
    caplog.set_level(logging.INFO, logger="custom_components.electrical_safety")
    rig.stop_bridge()
    await wait_for_state(hass, RESIDUAL, lambda s: s.state == STATE_UNAVAILABLE)
    tries = coordinator.reconnects
    await wait_until(hass, lambda: coordinator.reconnects >= tries + 3, "several retries")
    assert _logged(caplog, "Lost the connection to the bridge") == 1

    rig.start_bridge()
    await wait_for_state(hass, RESIDUAL, lambda s: s.state == "20")
    assert _logged(caplog, "Reconnected to the bridge") == 1
    assert _logged(caplog, "Lost the connection to the bridge") == 1


async def test_events_missed_while_disconnected_are_replayed(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    """An alarm raised while Home Assistant was cut off still fires the event entity."""
    coordinator = loaded_entry.runtime_data
    gate = asyncio.Event()

    async def held(delay: float) -> None:
        await gate.wait()

    coordinator._async_backoff = held
    rig.stop_bridge()
    await wait_until(hass, lambda: not coordinator.connected, "the connection lost")
    rig.start_bridge()
    rig.inject({"do": "leakage_ramp", "unit": 1, "to": 450, "seconds": 0.1})
    rig.wait(lambda: rig.get("/events?type=alarm_raised")["events"], "the alarm logged")
    gate.set()
    state = await wait_for_state(
        hass, "event.kitchen_alarms", lambda s: s.attributes.get("event_type") == "alarm_raised"
    )
    assert state.attributes["channel"] == "residual_current"


async def test_a_long_outage_becomes_a_repair_issue(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    rig: Rig,
    issue_registry: ir.IssueRegistry,
) -> None:
    coordinator = loaded_entry.runtime_data
    issue_id = f"bridge_unreachable_{loaded_entry.entry_id}"
    rig.stop_bridge()
    await wait_until(hass, lambda: not coordinator.connected, "the connection lost")
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=11))
    await hass.async_block_till_done()
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders["minutes"] == "10"

    rig.start_bridge()
    await wait_until(hass, lambda: coordinator.connected, "the bridge back")
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_devices_come_and_go_with_the_bridge(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    rig: Rig,
    entity_registry: er.EntityRegistry,
) -> None:
    aim = f"{BRIDGE_ID}:aim-3"
    site = find_device(hass, SITE_DEVICE)
    assert site is not None
    assert find_device(hass, aim) is not None
    rig.stop_bridge()
    rig.start_bridge(units=DEFAULT_UNITS[:2])
    await wait_until(hass, lambda: find_device(hass, aim) is None, "aim-3 removed")
    assert hass.states.get("sensor.aim_3_residual_current_1") is None
    assert entity_registry.async_get("sensor.aim_3_residual_current_1") is None

    rig.stop_bridge()
    rig.start_bridge()
    await wait_for_state(hass, "sensor.aim_3_residual_current_1", lambda s: s.state == "20")
    back = find_device(hass, aim)
    assert back is not None
    assert back.via_device_id == site.id, "a device that comes back is the site's again"


@pytest.mark.minimum_ha
async def test_detectors_are_the_bridges_as_soon_as_they_are_added(
    hass: HomeAssistant, config_entry: MockConfigEntry, device_registry: dr.DeviceRegistry
) -> None:
    """Linked when their entities are added, not only when a snapshot comes (here none
    does: the push connection is never opened)."""
    config_entry.add_to_hass(hass)
    with patch.object(ElectricalSafetyCoordinator, "async_start"):
        assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert not config_entry.runtime_data.connected
    devices = dr.async_entries_for_config_entry(device_registry, config_entry.entry_id)
    bridge, site = find_device(hass, BRIDGE_ID), find_device(hass, SITE_DEVICE)
    assert bridge is not None and site is not None
    assert site.via_device_id == bridge.id
    assert len(devices) == len(DEFAULT_UNITS) + 2
    assert {d.via_device_id for d in devices if d.id not in (bridge.id, site.id)} == {site.id}


async def test_a_detector_new_to_home_assistant_is_the_bridges_at_once(
    hass: HomeAssistant, config_entry: MockConfigEntry, rig: Rig
) -> None:
    """A detector Home Assistant has never seen, first reported after set-up, is the
    bridge's as soon as its entities are there."""
    rig.stop_bridge()
    rig.start_bridge(units=DEFAULT_UNITS[:2])
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    coordinator = config_entry.runtime_data
    await wait_until(hass, lambda: coordinator.connected, "the WebSocket's snapshot")
    site = find_device(hass, SITE_DEVICE)
    assert site is not None
    assert find_device(hass, f"{BRIDGE_ID}:aim-3") is None
    rig.stop_bridge()
    rig.start_bridge(units=DEFAULT_UNITS)
    await wait_for_state(hass, "sensor.aim_3_residual_current_1", lambda s: s.state == "20")
    for device_id, _, _ in DEFAULT_UNITS[2:]:
        device = find_device(hass, f"{BRIDGE_ID}:{device_id}")
        assert device is not None, device_id
        assert device.via_device_id == site.id, device_id


async def test_every_snapshot_links_the_detectors_to_the_bridge(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    rig: Rig,
    device_registry: dr.DeviceRegistry,
) -> None:
    """A detector's device that lost its link (by hand, or in an older registry) gets it
    back from the next snapshot."""
    site, kitchen = find_device(hass, SITE_DEVICE), find_device(hass, f"{BRIDGE_ID}:arcm-1")
    assert site is not None and kitchen is not None
    device_registry.async_update_device(kitchen.id, via_device_id=None)
    coordinator = loaded_entry.runtime_data
    rig.stop_bridge()
    await wait_until(hass, lambda: not coordinator.connected, "the bridge gone")
    rig.start_bridge()

    def linked() -> bool:
        device = device_registry.async_get(kitchen.id)
        return device is not None and device.via_device_id == site.id

    await wait_until(hass, linked, "the kitchen detector linked to the site again")


async def test_only_a_device_the_bridge_forgot_can_be_deleted(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, device_registry: dr.DeviceRegistry
) -> None:
    bridge = find_device(hass, BRIDGE_ID)
    live = find_device(hass, f"{BRIDGE_ID}:arcm-1")
    assert bridge is not None and live is not None
    gone = device_registry.async_get_or_create(
        config_entry_id=loaded_entry.entry_id, identifiers={(DOMAIN, f"{BRIDGE_ID}:gone-9")}
    )
    assert not await async_remove_config_entry_device(hass, loaded_entry, bridge)
    assert not await async_remove_config_entry_device(hass, loaded_entry, live)
    assert await async_remove_config_entry_device(hass, loaded_entry, gone)


async def test_a_new_token_on_the_bridge_starts_reauth(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    rig.stop_bridge()
    (rig.data_dir / "api_token").write_text("a-new-token\n", encoding="utf-8")
    rig.start_bridge()
    await wait_until(hass, lambda: bool(_reauth_flows(hass)), "a reauth flow")
    assert hass.states.get(RESIDUAL).state == STATE_UNAVAILABLE


async def test_a_message_it_cannot_read_is_skipped(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    coordinator = loaded_entry.runtime_data
    before = coordinator.data
    await coordinator._async_handle("not json")
    await coordinator._async_handle('{"type": "event", "event": {"seq": "x"}}')
    # Unstored, and without the id that ties it to its stored copy.
    await coordinator._async_handle(
        '{"type": "event", "event": {"seq": null, "stored": false, "type": "alarm_raised"}}'
    )
    await coordinator._async_handle('{"type": "pong"}')
    await coordinator._async_handle('{"type": "device_state", "device": {"id": "nobody"}}')
    assert coordinator.data is before
    assert _logged(caplog, "could not be read") == 3


async def test_the_coordinator_keeps_order_and_takes_older_bridges(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, bridge_rig: Rig
) -> None:
    """A refresh over REST keeps the event position; an event seen twice fires once; a
    snapshot without ``last_seq`` (an older bridge) is taken as it is."""
    coordinator = loaded_entry.runtime_data
    seen = coordinator._seen_seq
    await coordinator.async_refresh()
    assert coordinator._seen_seq == seen
    fired: list[BridgeEvent] = []
    coordinator.async_add_event_listener(fired.append)
    coordinator._async_on_event(
        BridgeEvent.from_dict({"seq": seen or 0, "type": "alarm_raised", "data": {}})
    )
    assert fired == []
    snapshot = {
        "type": "snapshot",
        "info": {**bridge_rig.get("/info"), "last_seq": None},
        "devices": bridge_rig.get("/devices")["devices"],
    }
    await coordinator._async_handle(json.dumps(snapshot))
    assert coordinator.data.last_seq is None
    assert coordinator._seen_seq == seen


async def test_a_failed_replay_is_logged(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    coordinator = loaded_entry.runtime_data
    rig.stop_bridge()
    await coordinator._async_replay(0, 10)
    assert _logged(caplog, "Could not fetch the events missed") == 1


def _event(seq: int | None, event_id: str, **data: Any) -> str:
    """An ``event`` message as the bridge pushes it: unstored (service.py, ``_hold``) when
    ``seq`` is None, else stored (``StoredEvent.as_dict``)."""
    event = {
        "id": event_id,
        "type": "alarm_raised",
        "at": 1_700_000_000.0,
        "device_id": "arcm-1",
        "channel": "residual_current",
        "data": {"id": f"alarm-{event_id}", "device_id": "arcm-1", "channel": "residual_current"}
        | data,
    }
    if seq is None:
        return json.dumps({"type": "event", "event": {"seq": None, **event, "stored": False}})
    return json.dumps({"type": "event", "event": {"seq": seq, **event}})


async def test_an_unstored_event_fires_at_once_and_its_stored_copy_does_not(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """The messages of a full disk, as the bridge sends them (test_storage.py has the bridge
    send them for real, where the tests run as root): the alarm fires when it is pushed
    unstored; its stored copy, with the same id, only moves the place in the log on."""
    coordinator = loaded_entry.runtime_data
    fired: list[BridgeEvent] = []
    coordinator.async_add_event_listener(fired.append)
    seq = (coordinator._seen_seq or 0) + 1000  # beyond anything the shared bridge logs

    await coordinator._async_handle(_event(None, "e1"))
    await coordinator._async_handle(_event(None, "e1"))  # the same push, twice: once
    state = hass.states.get("event.kitchen_alarms")
    assert state.attributes["event_type"] == "alarm_raised"
    assert state.attributes["alarm_id"] == "alarm-e1"
    assert state.attributes["seq"] is None
    assert [(e.id, e.seq) for e in fired] == [("e1", None)]

    await coordinator._async_handle(_event(seq, "e1"))
    assert [(e.id, e.seq) for e in fired] == [("e1", None)]
    assert coordinator._seen_seq == seq
    assert hass.states.get("event.kitchen_alarms") == state
    await coordinator._async_handle(_event(seq + 1, "e2"))  # a stored event as ever
    assert [(e.id, e.seq) for e in fired] == [("e1", None), ("e2", seq + 1)]

    # Held events a restarted bridge never stored are forgotten, the oldest first; were
    # one's stored copy to come after all, it would fire again rather than never.
    with patch("custom_components.electrical_safety.coordinator.UNSTORED_MEMORY", 2):
        for event_id in ("h1", "h2", "h3"):
            await coordinator._async_handle(_event(None, event_id))
    assert list(coordinator._unstored) == ["h2", "h3"]
    await coordinator._async_handle(_event(seq + 2, "h1"))
    await coordinator._async_handle(_event(seq + 3, "h2"))
    assert [e.id for e in fired][-4:] == ["h1", "h2", "h3", "h1"]


async def test_status_messages_of_older_and_newer_bridges(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    bridge_rig: Rig,
    issue_registry: ir.IssueRegistry,
) -> None:
    """What the bridge leaves out is kept or unknown; what this version does not know
    yet is read the safe way."""
    coordinator = loaded_entry.runtime_data
    entry_id = loaded_entry.entry_id
    storage = coordinator.data.info.storage
    assert storage is not None and not storage.problem

    async def status(body: dict[str, Any]) -> None:
        await coordinator._async_handle(json.dumps({"type": "status", "status": body}))

    # A bus the last snapshot did not describe waits for the next one; no storage in it
    # leaves the storage as it was.
    await status({"status": "ok", "problems": [], "buses": {"line-9": {"up": True}}})
    assert [bus.id for bus in coordinator.data.info.buses] == ["line-1"]
    assert coordinator.data.info.storage == storage

    # A storage state this version does not know is a problem all the same (the bridge
    # says so), reported as the milder of the two; missing numbers show as "?".
    await status({"storage": {"state": "read_only", "problem": True}})
    assert hass.states.get(STORAGE).state == STATE_ON
    issue = issue_registry.async_get_issue(DOMAIN, f"storage_on_reserve_{entry_id}")
    assert issue is not None
    assert issue.translation_placeholders["free"] == "?"
    assert issue.translation_placeholders["error"] == "?"
    await status({"buses": {"line-1": {"up": None, "overloaded": True}}})
    assert hass.states.get(OVERLOADED).state == STATE_ON
    assert hass.states.get(f"binary_sensor.{BRIDGE}_bus_line_1").state == STATE_UNKNOWN
    issue = issue_registry.async_get_issue(DOMAIN, f"bus_overloaded_{entry_id}_line-1")
    assert issue is not None
    assert {issue.translation_placeholders[k] for k in ("round", "share", "effective")} == {"?"}

    # A bridge from before storage and load were reported: they are unknown, and their
    # issues go.
    info = bridge_rig.get("/info")
    del info["storage"]
    for bus in info["buses"]:
        del bus["schedule"]
    snapshot = {
        "type": "snapshot",
        "info": info,
        "devices": bridge_rig.get("/devices")["devices"],
        "last_seq": info["last_seq"],
    }
    await coordinator._async_handle(json.dumps(snapshot))
    assert hass.states.get(STORAGE).state == STATE_UNKNOWN
    assert hass.states.get(STORAGE).attributes.get("state") is None
    assert hass.states.get(OVERLOADED).state == STATE_UNKNOWN
    assert hass.states.get(ROUND).state == STATE_UNKNOWN
    assert hass.states.get(f"binary_sensor.{BRIDGE}_bus_line_1").state == STATE_ON
    assert not [
        i
        for i in issue_registry.issues.values()
        if i.domain == DOMAIN and not i.issue_id.startswith("compliance_")
    ]


async def test_a_detector_takes_its_configured_name_and_room(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """The bridge configuration's ``name`` names the device and its ``area`` is suggested
    as the device's area; a detector configured without either keeps its id and no area."""
    kitchen = find_device(hass, f"{BRIDGE_ID}:arcm-1")
    assert kitchen is not None and kitchen.name == "Kitchen"
    assert kitchen.area_id is not None
    area = ar.async_get(hass).async_get_area(kitchen.area_id)
    assert area is not None and area.name == "Kitchen"
    plain = find_device(hass, f"{BRIDGE_ID}:asj-4")
    assert plain is not None and plain.name == "asj-4" and plain.area_id is None
    # Without an area of its own, the room its installation names is suggested.
    installed = find_device(hass, f"{BRIDGE_ID}:aim-3")
    assert installed is not None and installed.area_id is not None
    room = ar.async_get(hass).async_get_area(installed.area_id)
    assert room is not None and room.name == "Hallway"
