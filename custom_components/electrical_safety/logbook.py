"""The logbook's words for the bridge's events (``electrical_safety_event``, bus_event.py).

"Alarm raised: Kitchen, Temperature 2, 82.7 °C", "Alarm acknowledged by Alice", "Hazard
eliminated by Bob: loose terminal tightened", "Close refused (Alice): an alarm is still
active", rather than "Kitchen Alarms detected an event".

A logbook description is a plain string, made when the logbook is read. It is taken from
the translations in Home Assistant's configured language (English where a string is
missing). Home Assistant has no translation category for logbook messages, so they are
kept with the integration's other free-form messages, under ``exceptions`` with keys
starting ``logbook_``; the translation cache holds them from the integration's set-up on.

What the logbook does not show stays out of reach here: each entity's own state changes
are logged by Home Assistant, except those of sensors with a unit, a state class or a
numeric device class (every measurement, and every setpoint shown read-only, is such a
sensor, so a detector's dropout adds nothing of them). Numbers, switches, buttons and
binary sensors have no such exemption, and an entity cannot exclude itself; a person who
wants the thresholds out of the logbook excludes them in the logbook's configuration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.translation import async_get_cached_translations

from electrical_safety_bridge.common.enums import CommandName, EventType
from electrical_safety_bridge.common.models import numeric

from .const import DOMAIN, EVENT_ELECTRICAL_SAFETY
from .helpers import person

type Describe = Callable[[Event], dict[str, str]]

#: Event types whose message is one translation, with the same placeholders.
_SIMPLE: Mapping[str, str] = {
    EventType.ALARM_ACKNOWLEDGED: "logbook_alarm_acknowledged",
    EventType.ALARM_CLEARED: "logbook_alarm_cleared",
    EventType.WIRING_FAULT_RAISED: "logbook_wiring_fault_raised",
    EventType.WIRING_FAULT_ACKNOWLEDGED: "logbook_wiring_fault_acknowledged",
    EventType.WIRING_FAULT_CLEARED: "logbook_wiring_fault_cleared",
    EventType.HAZARD_OPENED: "logbook_hazard_opened",
    EventType.HAZARD_ACKNOWLEDGED: "logbook_hazard_acknowledged",
    EventType.HAZARD_ELIMINATED: "logbook_hazard_eliminated",
    EventType.LOCKOUT_SET: "logbook_lockout_set",
    EventType.LOCKOUT_LIFTED: "logbook_lockout_lifted",
    EventType.DEVICE_OFFLINE: "logbook_device_offline",
    EventType.DEVICE_ONLINE: "logbook_device_online",
    EventType.EARLY_WARNING: "logbook_early_warning",
    EventType.EARLY_WARNING_CLEARED: "logbook_early_warning_cleared",
}


def _value(data: Mapping[str, Any]) -> str:
    """The value at the alarm with its unit: ``82.7 °C``, ``480 mA``, or a named state."""
    raw = data.get("value")
    number = numeric(raw)
    text = ("?" if raw is None else str(raw)) if number is None else f"{number:g}"
    unit = data.get("unit")
    return f"{text} {unit}" if number is not None and unit else text


def _amount(data: Mapping[str, Any], key: str, digits: int) -> str:
    """An early warning's figure with the channel's unit: ``3.04 mA``, ``300 mA``."""
    number = numeric(data.get(key))
    if number is None:
        return "?"
    unit = data.get("unit")
    text = f"{round(number, digits):g}"
    return f"{text} {unit}" if unit else text


def _key(data: Mapping[str, Any]) -> str | None:
    """The translation of one event, or None for one told by its type's name."""
    kind = data.get("type")
    if kind == EventType.ALARM_RAISED:
        return (
            "logbook_alarm_raised_test"
            if data.get("detail") == "self_test"
            else ("logbook_alarm_raised")
        )
    if kind == EventType.SELF_TEST:
        passed = data.get("result") == "pass"
        return "logbook_self_test_passed" if passed else "logbook_self_test_failed"
    if kind == EventType.COMMAND:
        command, outcome = data.get("command"), data.get("outcome")
        if outcome == "refused" and command == CommandName.CLOSE:
            return "logbook_close_refused"
        if outcome == "confirmed" and command == CommandName.TRIP:
            return "logbook_tripped"
        if outcome == "confirmed" and command == CommandName.CLOSE:
            return "logbook_closed"
        return "logbook_command"
    return _SIMPLE.get(str(kind))


@callback
def describe_message(strings: Mapping[str, str], data: Mapping[str, Any]) -> str:
    """An event's logbook message, from translations (``component.<domain>.exceptions``)."""

    def text(key: str) -> str | None:
        return strings.get(f"component.{DOMAIN}.exceptions.{key}.message")

    key = _key(data)
    template = text(key) if key is not None else None
    if template is None:
        # A type without a message of its own (a newer bridge's, too): its name.
        return str(data.get("type"))
    reason = str(data.get("reason") or "?")
    placeholders = {
        "device": str(data.get("device_name") or data.get("bridge_device_id") or "?"),
        "channel": str(data.get("channel_name") or data.get("channel") or "?"),
        "value": _value(data),
        "who": person(data.get("who")),
        "note": str(data.get("note") or "?"),
        "why": str(data.get("why") or "?"),
        "command": str(data.get("command") or "?"),
        "outcome": str(data.get("outcome") or "?"),
        "reason": text(f"logbook_reason_{reason}") or reason,
        "setpoint": _amount(data, "setpoint", 1),
        "slope": _amount(data, "slope_per_day", 2),
        "days": _amount({"days": data.get("days_to_setpoint")}, "days", 0),
    }
    try:
        return template.format(**placeholders)
    except (KeyError, IndexError, ValueError):
        return template


@callback
def async_describe_events(
    hass: HomeAssistant, async_describe_event: Callable[[str, str, Describe], None]
) -> None:
    """Describe the bridge's events for the logbook."""

    @callback
    def describe(event: Event) -> dict[str, str]:
        data = event.data
        strings = async_get_cached_translations(hass, hass.config.language, "exceptions", DOMAIN)
        described = {
            LOGBOOK_ENTRY_NAME: str(data.get("device_name") or data.get("bridge_id") or DOMAIN),
            LOGBOOK_ENTRY_MESSAGE: describe_message(strings, data),
        }
        if entity_id := data.get("entity_id"):
            described[LOGBOOK_ENTRY_ENTITY_ID] = str(entity_id)
        return described

    async_describe_event(DOMAIN, EVENT_ELECTRICAL_SAFETY, describe)
