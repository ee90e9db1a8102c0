"""The logbook: each event of the bridge said in words, in Home Assistant's language."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON, Platform
from homeassistant.core import Context, Event, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.electrical_safety import logbook
from custom_components.electrical_safety.const import DOMAIN, EVENT_ELECTRICAL_SAFETY

from .conftest import wait_for_state, wait_until
from .rig import Rig

PACKAGE = Path(__file__).resolve().parents[2] / "custom_components" / DOMAIN
ALARM = "binary_sensor.kitchen_residual_current_alarm"
BREAKER = "switch.kitchen_breaker"

type Describe = Callable[[Event], dict[str, str]]


@pytest.fixture
def platforms() -> list[Platform]:
    return [
        Platform.SWITCH,
        Platform.BINARY_SENSOR,
        Platform.BUTTON,
        Platform.SENSOR,
        Platform.EVENT,
    ]


@pytest.fixture
def language() -> str:
    return "en"


@pytest.fixture
def configured_language(hass: HomeAssistant, language: str) -> str:
    hass.config.language = language
    return language


def _messages(language: str) -> dict[str, str]:
    path = PACKAGE / ("strings.json" if language == "en" else f"translations/{language}.json")
    strings = json.loads(path.read_text(encoding="utf-8"))
    return {key: value["message"] for key, value in strings["exceptions"].items()}


def _describer(hass: HomeAssistant) -> Describe:
    found: dict[str, tuple[str, Describe]] = {}

    def register(domain: str, event_type: str, describe: Describe) -> None:
        found[event_type] = (domain, describe)

    logbook.async_describe_events(hass, register)
    domain, describe = found[EVENT_ELECTRICAL_SAFETY]
    assert domain == DOMAIN
    return describe


@pytest.mark.parametrize("language", ["en", "ja"])
async def test_an_alarms_life_reads_in_words(
    hass: HomeAssistant,
    configured_language: str,
    loaded_entry: MockConfigEntry,
    rig: Rig,
) -> None:
    fired: list[Event] = []

    @callback
    def record(event: Event) -> None:
        fired.append(event)

    hass.bus.async_listen(EVENT_ELECTRICAL_SAFETY, record)
    describe = _describer(hass)
    messages = _messages(configured_language)
    alice = await hass.auth.async_create_user("Alice")
    as_alice = Context(user_id=alice.id)

    def said(event_type: str, **data: Any) -> list[dict[str, str]]:
        return [
            describe(e)
            for e in fired
            if e.data["type"] == event_type and data.items() <= e.data.items()
        ]

    rig.inject({"do": "leakage_ramp", "unit": 1, "to": 450, "seconds": 0.1})
    await wait_for_state(hass, ALARM, lambda s: s.state == STATE_ON)
    await wait_until(hass, lambda: bool(said("alarm_raised")), "the raised alarm fired")
    (raised,) = said("alarm_raised")
    event = next(e for e in fired if e.data["type"] == "alarm_raised")
    assert event.data["device_id"] is not None, "listed under the Home Assistant device"
    assert raised["entity_id"] == "event.kitchen_alarms"
    assert raised["name"] == "Kitchen"
    value = event.data["value"]
    channel = "Residual current" if configured_language == "en" else "漏洩電流"
    assert raised["message"] == messages["logbook_alarm_raised"].format(
        device="Kitchen", channel=channel, value=f"{value:g} mA"
    )
    if configured_language == "en":
        assert raised["message"] == f"Alarm raised: Kitchen, Residual current, {value:g} mA"

    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: BREAKER}, blocking=True, context=as_alice
    )
    await wait_for_state(hass, BREAKER, lambda s: s.state == STATE_OFF)
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            "switch", "turn_on", {ATTR_ENTITY_ID: BREAKER}, blocking=True, context=as_alice
        )
    await wait_until(hass, lambda: bool(said("command", outcome="refused")), "the refusal")
    (refused,) = said("command", outcome="refused")
    assert refused["message"] == messages["logbook_close_refused"].format(
        who="Alice", reason=messages["logbook_reason_alarm_active"]
    )
    (tripped,) = said("command", command="trip")
    assert tripped["message"] == messages["logbook_tripped"].format(who="Alice")

    alarm_id = hass.states.get(ALARM).attributes["alarm_id"]
    await hass.services.async_call(
        DOMAIN, "acknowledge_alarm", {"alarm_id": alarm_id}, blocking=True, context=as_alice
    )
    await wait_until(hass, lambda: bool(said("alarm_acknowledged")), "the acknowledgement")
    (acknowledged,) = said("alarm_acknowledged")
    assert acknowledged["message"] == messages["logbook_alarm_acknowledged"].format(who="Alice")
    if configured_language == "en":
        assert acknowledged["message"] == "Alarm acknowledged by Alice"

    rig.inject({"do": "leakage_ramp", "unit": 1, "to": 20, "seconds": 0.1})
    rig.wait(lambda: rig.get("/devices/arcm-1")["values"]["residual_current"] == 20, "no leak")
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: "button.kitchen_reset"}, blocking=True
    )
    await wait_until(hass, lambda: bool(said("alarm_cleared")), "the alarm cleared")
    (cleared,) = said("alarm_cleared")
    assert cleared["message"] == messages["logbook_alarm_cleared"].format(channel=channel)


async def test_the_workflow_and_the_rest_read_in_words(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Hazards and lock-outs as the bridge reports them, a wiring fault, a test alarm, a
    closed breaker, a plain command and a type this version does not know."""
    describe = _describer(hass)

    def message(**data: Any) -> str:
        return describe(Event(EVENT_ELECTRICAL_SAFETY, {"device_name": "Kitchen", **data}))[
            "message"
        ]

    assert message(type="hazard_eliminated", who="Home Assistant (Bob)", note="loose lug") == (
        "Hazard eliminated by Bob: loose lug"
    )
    assert message(type="lockout_set", who="Bob", why="rewiring") == (
        "Locked out for maintenance by Bob: rewiring"
    )
    assert message(type="lockout_lifted", who="Bob") == "Lock-out lifted"
    assert message(type="hazard_opened", channel_name="Temperature 2") == (
        "Hazard opened: Kitchen, Temperature 2"
    )
    assert message(type="hazard_acknowledged", who="Ann") == "Hazard acknowledged by Ann"
    assert message(type="alarm_raised", channel_name="Temperature 2", value=82.7, unit="°C") == (
        "Alarm raised: Kitchen, Temperature 2, 82.7 °C"
    )
    assert message(type="alarm_raised", channel_name="Arc count", detail="self_test") == (
        "Alarm raised by a self-test: Kitchen, Arc count"
    )
    assert message(
        type="wiring_fault_raised", channel_name="Temperature 3", value="open_circuit"
    ) == ("Sensor fault raised: Kitchen, Temperature 3, open_circuit")
    assert message(type="wiring_fault_acknowledged", who="Ann") == (
        "Sensor fault acknowledged by Ann"
    )
    assert message(type="wiring_fault_cleared", channel_name="Temperature 3") == (
        "Sensor fault cleared: Temperature 3"
    )
    assert message(type="command", command="close", outcome="confirmed", who="Ann") == (
        "Breaker closed by Ann"
    )
    assert message(type="command", command="mute", outcome="confirmed", who="Ann") == (
        "mute by Ann: confirmed"
    )
    assert message(type="self_test", result="pass") == "Self-test passed"
    assert message(type="self_test", result="fail") == "Self-test failed"
    assert message(type="device_offline") == "Stopped answering"
    assert message(type="device_online") == "Answering again"
    assert message(type="command", command="close", outcome="refused", reason="new") == (
        "Close refused (?): new"
    )
    assert message(type="something_newer") == "something_newer"
    described = describe(Event(EVENT_ELECTRICAL_SAFETY, {"type": "bus_down", "bridge_id": "b"}))
    assert described == {"name": "b", "message": "bus_down"}
