"""Service actions: acknowledge, self-test and the event log, against a real bridge."""

from __future__ import annotations

from unittest.mock import patch

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_ON, Platform
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from custom_components.electrical_safety.const import DOMAIN
from custom_components.electrical_safety.helpers import async_bridge_call

from .conftest import find_device, wait_for_state
from .rig import BRIDGE_ID, Rig


@pytest.fixture
def platforms() -> list[Platform]:
    return [Platform.BINARY_SENSOR, Platform.SENSOR]


def _device_id(hass: HomeAssistant, bridge_device: str) -> str:
    device = find_device(hass, f"{BRIDGE_ID}:{bridge_device}")
    assert device is not None
    return device.id


async def _call(hass: HomeAssistant, service: str, data: dict, *, response: bool = True) -> dict:
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=response
    )


async def _leak(hass: HomeAssistant, rig: Rig, unit: int = 1, entity: str = "kitchen") -> str:
    rig.inject({"do": "leakage_ramp", "unit": unit, "to": 450, "seconds": 0.1})
    state = await wait_for_state(
        hass, f"binary_sensor.{entity}_residual_current_alarm", lambda s: s.state == STATE_ON
    )
    return str(state.attributes["alarm_id"])


async def test_acknowledge_an_alarm_by_id(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig, hass_admin_user: MockUser
) -> None:
    alarm_id = await _leak(hass, rig)
    answer = await hass.services.async_call(
        DOMAIN,
        "acknowledge_alarm",
        {"alarm_id": alarm_id},
        blocking=True,
        return_response=True,
        context=Context(user_id=hass_admin_user.id),
    )
    assert answer == {"acknowledged": [alarm_id]}
    state = await wait_for_state(
        hass,
        "binary_sensor.kitchen_residual_current_alarm",
        lambda s: s.attributes.get("acknowledged") is True,
    )
    assert state.state == STATE_ON, "acknowledged, still active"
    (record,) = rig.get("/alarms")["alarms"]
    assert record["acknowledged_by"].startswith(f"Home Assistant ({hass_admin_user.name})")


async def test_acknowledge_every_open_alarm_of_a_device(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    alarm_id = await _leak(hass, rig, unit=4, entity="asj_4")
    answer = await _call(hass, "acknowledge_alarm", {"device_id": _device_id(hass, "asj-4")})
    assert answer == {"acknowledged": [alarm_id]}


async def test_acknowledge_needs_a_target_that_exists(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "acknowledge_alarm", {})
    assert err.value.translation_key == "no_alarm_target"
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "acknowledge_alarm", {"alarm_id": "a99-0"})
    assert err.value.translation_key == "unknown_alarm"
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "acknowledge_alarm", {"device_id": "not-a-device"})
    assert err.value.translation_key == "device_not_found"
    # A device of this integration, but of another bridge (or one this bridge forgot).
    for identifier in ("another-bridge:arcm-1", f"{BRIDGE_ID}:forgotten"):
        elsewhere = dr.async_get(hass).async_get_or_create(
            config_entry_id=loaded_entry.entry_id,
            identifiers={("another_domain", identifier), (DOMAIN, identifier)},
        )
        with pytest.raises(ServiceValidationError) as err:
            await _call(hass, "acknowledge_alarm", {"device_id": elsewhere.id})
        assert err.value.translation_key == "device_not_found"
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "acknowledge_alarm", {"alarm_id": "x", "config_entry_id": "nope"})
    assert err.value.translation_key == "entry_not_found"


async def test_acknowledging_twice_is_harmless(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    """The landlord acknowledged it on the bridge first: the record stays open while the
    alarm is active, and a second acknowledgement changes nothing."""
    alarm_id = await _leak(hass, rig)
    rig.post(f"/alarms/{alarm_id}/acknowledge", {"who": "landlord"})
    answer = await _call(hass, "acknowledge_alarm", {"alarm_id": alarm_id})
    assert answer == {"acknowledged": [alarm_id]}
    (record,) = rig.get("/alarms")["alarms"]
    assert record["acknowledged_by"].startswith("landlord")


async def test_an_alarm_the_bridge_no_longer_has_is_reported(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Cleared on the bridge in between: it answers 404, and the person is told."""
    coordinator = loaded_entry.runtime_data
    with pytest.raises(HomeAssistantError) as err:
        await async_bridge_call(coordinator, "a99-0", coordinator.client.acknowledge("a99-0", "t"))
    assert err.value.translation_key == "alarm_not_open"


async def test_self_test_of_every_detector_that_has_one(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    answer = await _call(hass, "run_self_test", {})
    assert sorted((r["device_id"], r["result"]) for r in answer["results"]) == [
        ("aafd-2", "pass"),
        ("arcm-1", "pass"),
    ]


async def test_self_test_of_a_device_without_one_is_refused(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "run_self_test", {"device_id": [_device_id(hass, "asj-4")]})
    assert err.value.translation_key == "self_test_unsupported"


async def test_self_test_that_cannot_start_fails_loudly(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    """The bridge is gone: the command cannot be sent, and the action says so."""
    device_id = _device_id(hass, "arcm-1")
    rig.stop_bridge()
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, "run_self_test", {"device_id": [device_id]})
    assert err.value.translation_key == "self_test_failed"


async def test_self_test_without_an_alarm_fails(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig, monkeypatch
) -> None:
    """A detector already in alarm raises no new one: the bridge's verdict is "fail",
    which a short wait stands in for here ("no_result")."""
    monkeypatch.setattr("custom_components.electrical_safety.services.SELF_TEST_WAIT_S", 0.5)
    await _leak(hass, rig)
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, "run_self_test", {"device_id": [_device_id(hass, "arcm-1")]})
    assert err.value.translation_key == "self_test_failed"
    assert "no_result" in str(err.value)


async def test_get_events_reads_the_bridge_log(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, rig: Rig
) -> None:
    alarm_id = await _leak(hass, rig)
    rig.wait(lambda: rig.get("/events?type=alarm_raised")["events"], "the alarm logged")
    answer = await _call(
        hass,
        "get_events",
        {
            "device_id": _device_id(hass, "arcm-1"),
            "event_types": ["alarm_raised"],
            "since": "2020-01-01T00:00:00+00:00",
        },
    )
    (event,) = answer["events"]
    assert event["type"] == "alarm_raised"
    assert event["data"]["id"] == alarm_id
    everything = await _call(
        hass, "get_events", {"limit": 1000, "config_entry_id": loaded_entry.entry_id}
    )
    assert len(everything["events"]) >= 1


async def test_services_need_a_loaded_bridge(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    second = MockConfigEntry(domain=DOMAIN, unique_id=BRIDGE_ID, data=loaded_entry.data)
    second.add_to_hass(hass)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "get_events", {"config_entry_id": second.entry_id})
    assert err.value.translation_key == "entry_not_loaded"
    # A second bridge (here the same one again, without entities, whose unique ids would
    # collide with the first's).
    with patch("custom_components.electrical_safety.PLATFORMS", []):
        assert await hass.config_entries.async_setup(second.entry_id)
        await hass.async_block_till_done()
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "get_events", {})
    assert err.value.translation_key == "bridge_ambiguous"
    for entry in (loaded_entry, second):
        await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert loaded_entry.state is ConfigEntryState.NOT_LOADED
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "run_self_test", {})
    assert err.value.translation_key == "no_bridge_loaded"
