"""Refusals as a person reads them: the detector and channel by their names, in Home
Assistant's language, without the bridge's own English."""

from __future__ import annotations

import pytest
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.electrical_safety.helpers import (
    REFUSALS,
    BridgeRefusal,
    check_outcome,
    person,
    translate_error,
)
from electrical_safety_bridge.common.errors import CommandRefused, UnknownAlarm


def _refuse(entry: MockConfigEntry, reason: str, message: str, **kw: str) -> HomeAssistantError:
    return translate_error(
        CommandRefused(reason, message), entry.runtime_data, "Kitchen", device_id="arcm-1", **kw
    )


@pytest.mark.parametrize("platforms", [[Platform.SWITCH]])
async def test_a_channel_without_its_entity_is_named_by_its_translation(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Only the switch is loaded: the temperature's name comes from the translations."""
    err = _refuse(
        loaded_entry, "alarm_active", "close refused: alarm still active on temperature_2"
    )
    assert isinstance(err, ServiceValidationError)
    assert err.translation_placeholders["channels"] == "Temperature 2"
    assert str(err).startswith("Kitchen: the breaker stays open because the alarm on Temperature 2")


async def test_every_refusal_a_person_can_act_on_is_a_translated_validation_error(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    for reason, key in REFUSALS.items():
        err = _refuse(loaded_entry, reason, "raw bridge text")
        assert isinstance(err, BridgeRefusal), reason
        assert err.translation_key == key
        assert "raw bridge text" not in str(err), reason
        assert "{" not in str(err), reason

    setpoint = next(s for s in loaded_entry.runtime_data.data.devices["arcm-1"].setpoints)
    err = _refuse(loaded_entry, "value_out_of_range", "no", setpoint=setpoint.key)
    assert err.translation_placeholders["minimum"].startswith(f"{setpoint.minimum:g}")
    assert err.translation_placeholders["maximum"].startswith(f"{setpoint.maximum:g}")

    unknown = _refuse(loaded_entry, "something_newer", "a newer bridge's words")
    assert not isinstance(unknown, ServiceValidationError)
    assert unknown.translation_key == "command_refused"

    gone = translate_error(UnknownAlarm("alarm-9"), loaded_entry.runtime_data, "alarm-9")
    assert str(gone) == "alarm-9 is not an open alarm: it may have been cleared already."

    missing = BridgeRefusal(translation_domain="electrical_safety", translation_key="nothing")
    assert str(missing) == "nothing"


async def test_a_refused_result_is_the_refusal(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    result = {"outcome": "refused", "reason": "locked_out", "message": "locked"}
    with pytest.raises(ServiceValidationError) as refused:
        check_outcome(
            result,
            "Kitchen",
            "close",
            coordinator=loaded_entry.runtime_data,
            device_id="arcm-1",
        )
    assert refused.value.translation_key == "close_refused_locked_out"
    with pytest.raises(HomeAssistantError) as failed:
        check_outcome({"outcome": "failed", "message": "no answer"}, "Kitchen", "close")
    assert failed.value.translation_key == "command_failed"


def test_the_person_of_a_recorded_who() -> None:
    assert person("Home Assistant (Alice)") == "Alice"
    assert person("Home Assistant (Alice) (127.0.0.1)") == "Alice"
    assert person("landlord (127.0.0.1)") == "landlord (127.0.0.1)"
    assert person(None) == "?"
