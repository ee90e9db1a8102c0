"""Event entities: an alarm's life, and self-tests, as events automations trigger on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from homeassistant.const import ATTR_ENTITY_ID, Platform
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, State, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.electrical_safety.const import DOMAIN

from .conftest import wait_for_state, wait_until
from .rig import Rig

EVENTS = "event.kitchen_alarms"


@pytest.fixture
def platforms() -> list[Platform]:
    return [Platform.EVENT, Platform.BUTTON]


@pytest.mark.parametrize("platforms", [[Platform.EVENT]])
async def test_events(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    await snapshot_platform(hass, entity_registry, snapshot, loaded_entry.entry_id)


def _is(event_type: str) -> Callable[[State], bool]:
    return lambda state: state.attributes.get("event_type") == event_type


@pytest.mark.minimum_ha
async def test_an_alarm_is_raised_acknowledged_and_cleared(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    rig.inject({"do": "leakage_ramp", "unit": 1, "to": 450, "seconds": 0.1})
    raised = await wait_for_state(hass, EVENTS, _is("alarm_raised"))
    attributes = raised.attributes
    assert attributes["channel"] == "residual_current"
    assert attributes["channel_kind"] == "residual_current"
    assert attributes["unit"] == "mA"
    assert attributes["value_at_alarm"] >= 300
    assert attributes["detail"] is None, "a real alarm, not a test"
    assert isinstance(attributes["raised_at"], datetime)
    assert attributes["raised_at"].utcoffset() == timedelta(0)
    assert isinstance(attributes["at"], datetime) and attributes["at"].tzinfo is not None
    alarm_id = attributes["alarm_id"]
    stored = rig.get("/events?type=alarm_raised&device_id=arcm-1")["events"]
    assert [e["id"] for e in stored] == [attributes["event_id"]], "the store's id of the event"

    await hass.services.async_call(
        DOMAIN, "acknowledge_alarm", {"alarm_id": alarm_id}, blocking=True
    )
    acknowledged = await wait_for_state(hass, EVENTS, _is("alarm_acknowledged"))
    assert acknowledged.attributes["alarm_id"] == alarm_id
    assert acknowledged.attributes["acknowledged_by"].startswith("Home Assistant")

    rig.inject({"do": "leakage_ramp", "unit": 1, "to": 20, "seconds": 0.1})
    rig.wait(
        lambda: rig.get("/devices/arcm-1")["values"]["residual_current"] == 20, "the leak gone"
    )
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: "button.kitchen_reset"}, blocking=True
    )
    cleared = await wait_for_state(hass, EVENTS, _is("alarm_cleared"))
    assert cleared.attributes["alarm_id"] == alarm_id


async def test_a_self_test_alarm_says_it_is_a_test(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    bedroom = "event.bedroom_alarms"
    fired: list[dict] = []

    @callback
    def record(event: Event[EventStateChangedData]) -> None:
        fired.append(dict(event.data["new_state"].attributes))

    async_track_state_change_event(hass, bedroom, record)
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: "button.bedroom_self_test"}, blocking=True
    )
    passed = await wait_for_state(hass, bedroom, _is("self_test_passed"))
    assert passed.attributes["channel"] == "arc_count"
    assert passed.attributes["seconds"] is not None
    (raised,) = [a for a in fired if a["event_type"] == "alarm_raised"]
    assert raised["detail"] == "self_test", "a notification can tell a test from a fire"


async def test_a_wiring_fault_has_events_of_its_own(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    rig.inject({"do": "wiring_fault", "unit": 1, "channel": "temperature_3"})
    raised = await wait_for_state(hass, EVENTS, _is("wiring_fault_raised"))
    assert raised.attributes["channel"] == "temperature_3"


async def test_an_alarm_raised_while_home_assistant_was_stopped_fires_once_it_is_back(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    """An unload saves how far the events went; the next set-up replays the bridge's log
    from there, as after a restart of Home Assistant (tests/e2e restarts a real one)."""
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    rig.inject({"do": "leakage_ramp", "unit": 1, "to": 450, "seconds": 0.1})
    rig.wait(
        lambda: bool(rig.get("/events?type=alarm_raised&device_id=arcm-1")["events"]),
        "the alarm stored by the bridge",
    )
    (stored,) = rig.get("/events?type=alarm_raised&device_id=arcm-1")["events"]
    assert await hass.config_entries.async_setup(loaded_entry.entry_id)
    raised = await wait_for_state(hass, EVENTS, _is("alarm_raised"))
    assert raised.attributes["event_id"] == stored["id"]


async def test_a_first_set_up_fires_nothing_of_the_bridge_s_past(
    hass: HomeAssistant, config_entry: MockConfigEntry, rig: Rig
) -> None:
    rig.inject({"do": "leakage_ramp", "unit": 1, "to": 450, "seconds": 0.1})
    rig.wait(
        lambda: bool(rig.get("/events?type=alarm_raised&device_id=arcm-1")["events"]),
        "the alarm stored by the bridge",
    )
    fired: list[str | None] = []

    @callback
    def record(event: Event[EventStateChangedData]) -> None:
        new_state = event.data["new_state"]
        if new_state is not None and new_state.attributes.get("event_type") == "alarm_raised":
            fired.append(new_state.attributes.get("channel"))

    async_track_state_change_event(hass, EVENTS, record)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    # Events are dispatched in the log's order: a later alarm fires after any replay would.
    rig.inject({"do": "temperature_rise", "unit": 1, "channel": "temperature_2", "to": 95})
    await wait_until(hass, lambda: bool(fired), "the later alarm fired")
    assert fired == ["temperature_2"], "the alarm from before the set-up is not fired"
