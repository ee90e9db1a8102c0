"""The wire contract, read by the client and the integration from the bridge's recordings.

tests/fixtures/contract/*.json are payloads a running bridge produced and
tests/bridge/api/test_contract_fixtures.py keeps matching the live bridge (record them again
with ``UPDATE_CONTRACT_FIXTURES=1``, see there). Here, in Home Assistant's environment, the
client's models parse exactly those files and write them back unchanged, each refusal comes
back as the error the bridge raised, with a translated message, and the integration derives
an entity for every channel, setpoint and command of the recorded devices.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from types import SimpleNamespace
from typing import Any, cast

import pytest
from homeassistant.const import Platform
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity import Entity

from custom_components.electrical_safety import (
    binary_sensor,
    button,
    number,
    select,
    sensor,
    site_sensors,
    switch,
)
from custom_components.electrical_safety.coordinator import ElectricalSafetyCoordinator
from custom_components.electrical_safety.helpers import REFUSALS, check_outcome, translate_error
from custom_components.electrical_safety.kinds import (
    BREAKER_COMMANDS,
    BUTTON_COMMANDS,
    CHANNEL_KINDS,
    SETPOINT_KINDS,
    SETPOINT_NAMES,
    platform_of,
)
from electrical_safety_bridge.client import parse_snapshot
from electrical_safety_bridge.common.enums import ChannelKind, MessageType, SetpointKind
from electrical_safety_bridge.common.errors import (
    BridgeError,
    CommandRefused,
    UnknownAlarm,
    UnknownDevice,
    UnknownHazard,
    error_from_answer,
)
from electrical_safety_bridge.common.models import (
    Alarm,
    BridgeData,
    BridgeEvent,
    BridgeInfo,
    BridgeStatus,
    Device,
    DeviceState,
)
from electrical_safety_bridge.common.site import Installation, Site
from electrical_safety_bridge.common.trends import ChannelTrend
from electrical_safety_bridge.common.workflow import (
    Hazard,
    HazardStatistics,
    Lockout,
    hazards_from,
)

from .rig import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "contract"
STRINGS = ROOT / "custom_components" / "electrical_safety" / "strings.json"

#: Each refusal the bridge recorded: the error the client raises, its reason, and the
#: translation key of what a person is told.
REFUSAL_FIXTURES: dict[str, tuple[type[BridgeError], str, str]] = {
    "refusal_alarm_active": (CommandRefused, "alarm_active", "close_refused_alarm_active"),
    "refusal_profile_unverified": (
        CommandRefused,
        "profile_unverified",
        "command_refused_profile_unverified",
    ),
    "refusal_unknown_device": (UnknownDevice, "unknown_device", "command_refused"),
    "refusal_unknown_alarm": (UnknownAlarm, "unknown_alarm", "alarm_not_open"),
}
#: Refusals of the alarm-to-resolution workflow: the error and its reason. What a person is
#: told is whatever translation key the integration maps the reason to (``REFUSALS``,
#: falling back to ``command_refused``): the key must exist in strings.json.
WORKFLOW_REFUSAL_FIXTURES: dict[str, tuple[type[BridgeError], str]] = {
    "refusal_locked_out": (CommandRefused, "locked_out"),
    "refusal_condition_persists": (CommandRefused, "condition_persists"),
    "refusal_unknown_hazard": (UnknownHazard, "unknown_hazard"),
}


def _load(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def _strings() -> dict[str, Any]:
    strings: dict[str, Any] = json.loads(STRINGS.read_text(encoding="utf-8"))
    return strings


# --------------------------------------------------------------------------- parsing


def _info(raw: Any) -> None:
    assert BridgeInfo.from_dict(raw).to_dict() == raw


def _devices(raw: Any) -> None:
    assert raw["devices"], "the recording has devices"
    for device in raw["devices"]:
        assert Device.from_dict(device).to_dict() == device


def _device(raw: Any) -> None:
    device = Device.from_dict(raw)
    assert device.to_dict() == raw
    assert isinstance(device.installation, Installation), "the recording has an installation"


def _site(raw: Any) -> None:
    site = Site.from_dict(raw)
    assert site.to_dict() == raw
    assert site.latitude is not None and site.contracts, "the recording has a full site"


def _alarms(raw: Any) -> None:
    assert raw["alarms"], "the recording has an open alarm"
    for alarm in raw["alarms"]:
        assert Alarm.from_dict(alarm).to_dict() == alarm


def _events(raw: Any) -> None:
    assert raw["events"]
    for event in raw["events"]:
        parsed = BridgeEvent.from_dict(event)
        assert parsed.stored
        assert parsed.to_dict() == event
    assert isinstance(raw["next_after"], int)


def _health(raw: Any) -> None:
    # GET /health is a status with the bridge's version beside it (kept as an extra).
    status = BridgeStatus.from_dict(raw)
    assert status.to_dict() == raw
    assert status.extra == {"version": raw["version"]}


def _ws_snapshot(raw: Any) -> None:
    assert raw["type"] == MessageType.SNAPSHOT
    snapshot = parse_snapshot(raw)  # checks the schema first
    assert snapshot.to_dict() == raw
    data = BridgeData.from_parts(raw["info"], raw["devices"], raw["last_seq"])
    assert set(data.devices) == {d["id"] for d in raw["devices"]}
    assert data.info == snapshot.info
    assert [a.id for a in data.open_alarms] == [a["id"] for a in raw["alarms"]]
    assert snapshot.site == Site.from_dict(_load("site")), "the snapshot carries the site"


def _ws_event(raw: Any) -> None:
    assert raw["type"] == MessageType.EVENT
    event = BridgeEvent.from_dict(raw["event"])
    assert event.to_dict() == raw["event"]
    assert Alarm.from_dict(event.data).to_dict() == event.data


def _ws_device_state(raw: Any) -> None:
    assert raw["type"] == MessageType.DEVICE_STATE
    state = DeviceState.from_dict(raw["device"])
    assert state.id == raw["device"]["id"]
    assert state.to_dict() == raw["device"]


def _ws_status(raw: Any) -> None:
    assert raw["type"] == MessageType.STATUS
    status = BridgeStatus.from_dict(raw["status"])
    assert status.to_dict() == raw["status"]
    # What the coordinator does with it: the info's buses and storage follow the status.
    info = BridgeInfo.from_dict(_load("info")).with_status(status)
    for bus in info.buses:
        up, schedule = status.buses[bus.id]
        assert (bus.up, bus.schedule) == (up, schedule)
    assert info.storage == status.storage


def _command(raw: Any) -> None:
    assert raw["status"] == 200
    check_outcome(raw["body"], "Kitchen", raw["body"]["command"])  # raises unless confirmed


def _acknowledge(raw: Any) -> None:
    assert raw["status"] == 200
    body = raw["body"]
    assert body["events"]
    for event in body["events"]:
        # The answer's events are the acknowledgement as it happened (not yet a stored
        # event with a seq): their data is the acknowledged alarm record.
        alarm = Alarm.from_dict(event["data"])
        assert alarm.to_dict() == event["data"]
        assert alarm.id == body["acknowledged"]
        assert alarm.acknowledged and alarm.acknowledged_by


def _hazards(raw: Any) -> None:
    hazards = hazards_from(raw)
    assert [h.state for h in hazards] == ["open"], "the recording has one open hazard"
    assert {"hazards": [h.to_dict() for h in hazards]} == raw


def _hazard_step(raw: Any) -> None:
    assert raw["status"] == 200
    hazard = Hazard.from_dict(raw["body"]["hazard"])
    assert hazard.to_dict() == raw["body"]["hazard"]
    assert hazard.acknowledged is not None, "every step after opening is acknowledged"
    if hazard.state == "eliminated":
        assert hazard.eliminated is not None and hazard.note and not hazard.open


def _statistics(raw: Any) -> None:
    statistics = HazardStatistics.from_dict(raw)
    assert statistics.to_dict() == raw
    assert statistics.open_hazards == 1 and statistics.month


def _ws_hazard(raw: Any) -> None:
    assert raw["type"] == MessageType.HAZARD
    hazard = Hazard.from_dict(raw["hazard"])
    assert hazard.to_dict() == raw["hazard"]
    assert HazardStatistics.from_dict(raw["statistics"]).to_dict() == raw["statistics"]


def _lockout(raw: Any) -> None:
    assert raw["status"] == 200
    lockout = Lockout.from_dict(raw["body"]["lockout"])
    assert lockout.to_dict() == raw["body"]["lockout"]
    assert lockout.why and lockout.until is not None


def _early_warnings(raw: Any) -> None:
    channels = [ChannelTrend.from_dict(c) for c in raw["channels"]]
    assert [c.to_dict() for c in channels] == raw["channels"]
    assert {c.kind for c in channels} == {"residual_current", "temperature"}
    assert all(c.setpoint is not None and not c.warning for c in channels)


PARSERS: dict[str, Callable[[Any], None]] = {
    "info": _info,
    "devices": _devices,
    "device": _device,
    "alarms": _alarms,
    "events": _events,
    "health": _health,
    "ws_snapshot": _ws_snapshot,
    "ws_event_alarm_raised": _ws_event,
    "ws_device_state": _ws_device_state,
    "ws_status": _ws_status,
    "command_trip_confirmed": _command,
    "acknowledge": _acknowledge,
    "hazards": _hazards,
    "hazard_acknowledge": _hazard_step,
    "hazard_eliminate": _hazard_step,
    "statistics": _statistics,
    "ws_hazard": _ws_hazard,
    "lockout": _lockout,
    "site": _site,
    "early_warnings": _early_warnings,
}


def test_every_recorded_file_is_read_here() -> None:
    """A payload the bridge side records without a reader here fails, and so does a
    reader whose file is gone."""
    files = {p.stem for p in FIXTURES.glob("*.json")}
    assert files == set(PARSERS) | set(REFUSAL_FIXTURES) | set(WORKFLOW_REFUSAL_FIXTURES)
    assert {p.name for p in FIXTURES.iterdir()} == {f"{name}.json" for name in files}


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_the_client_parses_and_writes_back_each_payload(name: str) -> None:
    PARSERS[name](_load(name))


@pytest.mark.minimum_ha
def test_the_recorded_info_parses() -> None:
    """The lightest check, also on the minimum Home Assistant: info and a device parse."""
    _info(_load("info"))
    _device(_load("device"))


# --------------------------------------------------------------------------- refusals


def _stand_in_coordinator(data: BridgeData | None = None) -> ElectricalSafetyCoordinator:
    """What the integration's entity and error code read of a coordinator, and no more."""
    bridge_id = data.info.bridge_id if data is not None else "bridge"
    return cast(
        ElectricalSafetyCoordinator,
        SimpleNamespace(bridge_id=bridge_id, data=data, early_warnings=None),
    )


@pytest.mark.minimum_ha
@pytest.mark.parametrize("name", sorted(REFUSAL_FIXTURES))
def test_each_refusal_is_the_bridges_error_with_a_translated_message(name: str) -> None:
    error_class, reason, translation_key = REFUSAL_FIXTURES[name]
    raw = _load(name)
    assert raw["status"] in (404, 409)
    error = error_from_answer(raw["status"], raw["body"])
    assert type(error) is error_class, error
    assert isinstance(error, CommandRefused)
    assert error.reason == reason
    assert error.http_status == raw["status"]
    assert error.error_code == raw["body"]["error"]
    assert str(error) == raw["body"]["message"]
    assert REFUSALS.get(reason, "command_refused") == translation_key
    translated = translate_error(error, _stand_in_coordinator(), "Kitchen")
    assert translated.translation_key == translation_key
    assert translation_key in _strings()["exceptions"]
    placeholders = translated.translation_placeholders or {}
    assert placeholders["target"] == "Kitchen"
    if reason in REFUSALS:
        # A refusal a person can act on: a validation error, in words of its own, without
        # the bridge's English.
        assert isinstance(translated, ServiceValidationError)
        assert raw["body"]["message"] not in placeholders.values()
    else:
        assert not isinstance(translated, ServiceValidationError)
        assert placeholders["message"] == raw["body"]["message"]


@pytest.mark.parametrize("name", sorted(WORKFLOW_REFUSAL_FIXTURES))
def test_each_workflow_refusal_is_the_bridges_error(name: str) -> None:
    error_class, reason = WORKFLOW_REFUSAL_FIXTURES[name]
    raw = _load(name)
    assert raw["status"] in (404, 409)
    error = error_from_answer(raw["status"], raw["body"])
    assert type(error) is error_class, error
    assert isinstance(error, CommandRefused)
    assert error.reason == reason == raw["body"]["reason"]
    assert error.http_status == raw["status"]
    assert error.error_code == raw["body"]["error"]
    assert str(error) == raw["body"]["message"]
    translated = translate_error(error, _stand_in_coordinator(), "Kitchen")
    assert translated.translation_key == REFUSALS.get(reason, "command_refused")
    assert translated.translation_key in _strings()["exceptions"]


# --------------------------------------------------------------------------- entities


def _device_entities(coordinator: ElectricalSafetyCoordinator, device: Device) -> list[Entity]:
    """Every entity the platforms derive from one device, as they do on set-up."""
    entities: list[Entity] = []
    for derive in (
        sensor._device_sensors,
        binary_sensor._device_binary_sensors,
        switch._switches,
        number._numbers,
        select._selects,
        button._buttons,
    ):
        entities.extend(cast(Iterable[Entity], derive(coordinator, device)))
    return entities


def _platform(entity: Entity) -> Platform:
    for platform, module in (
        (Platform.SENSOR, sensor),
        # The site's and the installations' sensors, added by the sensor platform.
        (Platform.SENSOR, site_sensors),
        (Platform.BINARY_SENSOR, binary_sensor),
        (Platform.SWITCH, switch),
        (Platform.NUMBER, number),
        (Platform.SELECT, select),
        (Platform.BUTTON, button),
    ):
        if type(entity).__module__ == module.__name__:
            return platform
    raise AssertionError(f"{entity!r} is of no platform")


def test_every_channel_setpoint_and_command_of_the_recorded_devices_has_an_entity() -> None:
    snapshot = parse_snapshot(_load("ws_snapshot"))
    data = BridgeData(
        info=snapshot.info, devices={d.id: d for d in snapshot.devices}, last_seq=None
    )
    coordinator = _stand_in_coordinator(data)
    names = _strings()["entity"]
    assert data.devices
    for device in data.devices.values():
        entities = _device_entities(coordinator, device)
        by_id = {e.unique_id: e for e in entities}
        assert len(by_id) == len(entities), f"{device.id}: a unique id is used twice"
        prefix = f"{data.info.bridge_id}:{device.id}"
        for entity in entities:
            key = entity.entity_description.translation_key
            assert key in names[_platform(entity)], (device.id, entity.unique_id, key)
        for channel in device.channels:
            # No channel is skipped: each kind has a row, and every row has a platform.
            assert channel.kind in CHANNEL_KINDS, (device.id, channel.key, channel.kind)
            value = by_id.get(f"{prefix}:channel:{channel.key}")
            assert value is not None, f"{device.id}: channel {channel.key} has no entity"
            assert _platform(value) is platform_of(device, channel)
            # A sentinel in a record of the last alarm's value is no fault a person can fix.
            last_value = channel.kind == ChannelKind.VALUE_AT_ALARM
            for role, flag in (
                ("alarm", channel.has_alarm),
                ("warning", channel.has_warning),
                ("wiring_fault", channel.has_wiring_fault and not last_value),
            ):
                condition = by_id.get(f"{prefix}:{role}:{channel.key}")
                assert (condition is not None) == flag, (device.id, channel.key, role)
        for setpoint in device.setpoints:
            assert setpoint.kind in SETPOINT_KINDS, (device.id, setpoint.key, setpoint.kind)
            shown = by_id.get(f"{prefix}:setpoint:{setpoint.key}")
            assert shown is not None, f"{device.id}: setpoint {setpoint.key} has no entity"
            # A number where Home Assistant may write it, a switch for a flag, a select for
            # a register with options; read-only: a sensor (enum for options), or a binary
            # sensor for a flag.
            flag = setpoint.kind == SetpointKind.ENABLE
            if setpoint.options:
                expected = Platform.SELECT if setpoint.writable else Platform.SENSOR
            elif flag:
                expected = Platform.SWITCH if setpoint.writable else Platform.BINARY_SENSOR
            else:
                expected = Platform.NUMBER if setpoint.writable else Platform.SENSOR
            assert _platform(shown) is expected, (device.id, setpoint.key)
            # Built-in profiles name every setpoint by a translation key of their own.
            assert setpoint.translation_key in SETPOINT_NAMES, (device.id, setpoint.key)
            named = shown.entity_description.translation_key
            assert named is not None and named.removesuffix("_n") == setpoint.translation_key
        for command in device.commands:
            if command in BUTTON_COMMANDS:
                assert f"{prefix}:command:{command}" in by_id, (device.id, command)
            else:
                # Trip and close are the breaker switch's off and on.
                assert command in BREAKER_COMMANDS, (device.id, command)
                assert any(_platform(e) is Platform.SWITCH for e in entities), device.id
    # The recording covers what the tables must handle: a breaker switch, writable and
    # read-only setpoints, buttons.
    everything = [e for d in data.devices.values() for e in _device_entities(coordinator, d)]
    assert {_platform(e) for e in everything} == {
        Platform.SENSOR,
        Platform.BINARY_SENSOR,
        Platform.SWITCH,
        Platform.NUMBER,
        Platform.BUTTON,
    }


def test_the_bridges_own_entities_come_from_the_recorded_info() -> None:
    snapshot = parse_snapshot(_load("ws_snapshot"))
    data = BridgeData(info=snapshot.info, devices={}, last_seq=None)
    coordinator = _stand_in_coordinator(data)
    entities = [
        *sensor._bridge_sensors(coordinator),
        *binary_sensor._bridge_binary_sensors(coordinator),
    ]
    keys = {e.entity_description.key for e in entities}
    for bus in data.info.buses:
        assert {f"bus_{bus.id}", f"bus_{bus.id}_overloaded", f"bus_{bus.id}_alarm_round"} <= keys
    assert {"storage", "open_alarms"} <= keys
