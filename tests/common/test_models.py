"""The wire models keep what they do not know (common/models.py)."""

from __future__ import annotations

from typing import Any

import pytest

from electrical_safety_bridge.common.enums import (
    AlarmKind,
    ChannelKind,
    CommandName,
    EventType,
    HazardState,
    StorageState,
)
from electrical_safety_bridge.common.models import (
    Alarm,
    BridgeEvent,
    BridgeInfo,
    BridgeStatus,
    Channel,
    Device,
    Setpoint,
    Snapshot,
    enum_or_str,
)
from electrical_safety_bridge.common.workflow import Hazard, HazardStatistics

ACTOR = {"who": "Alice", "source": "home_assistant", "at": 12.5}
HAZARD: dict[str, Any] = {
    "id": "h1",
    "alarm_id": "a1",
    "kind": "alarm",
    "device_id": "kitchen",
    "channel": "leak",
    "state": "acknowledged",
    "opened_at": 1.5,
    "value_at_alarm": 512.0,
    "detail": None,
    "active": True,
    "acknowledged": ACTOR,
    "eliminated": None,
    "note": None,
}
STATISTICS: dict[str, Any] = {
    "open_hazards": 1,
    "unacknowledged_alarms": 0,
    "alarms_this_month": 3,
    "eliminated_this_month": 2,
    "mean_time_to_acknowledge_s": 40.0,
    "mean_time_to_eliminate_s": None,
    "month": "2026-11",
}
LOCKOUT = {"who": "Bob", "source": "api", "why": "rewiring", "since": 3.0, "until": None}
CHANNEL: dict[str, Any] = {
    "key": "leak",
    "name": "Residual current",
    "kind": "residual_current",
    "unit": "mA",
    "device_class": "current",
    "state_class": "measurement",
    "diagnostic": False,
    "writable": False,
    "states": None,
    "has_alarm": True,
    "has_warning": False,
    "has_wiring_fault": True,
    "poll": "telemetry",
}
DEVICE: dict[str, Any] = {
    "id": "kitchen",
    "name": "Kitchen",
    "bus": "line-1",
    "unit": 3,
    "manufacturer": "Acrel",
    "model": "ARCM300",
    "kind": "residual_current_monitor",
    "manual_version": "V1.0",
    "verified": True,
    "simulated": False,
    "source": "builtin",
    "area": "Kitchen",
    "installation": {
        "ct_rating_a": 100.0,
        "ct_location": "service_entrance",
        "circuit": "Kitchen sockets",
        "circuit_rated_current_a": 20.0,
        "room": "Kitchen",
    },
    "channels": [CHANNEL],
    "setpoints": [
        {
            "key": "leak_alarm",
            "name": "Leak alarm",
            "kind": "residual_current_alarm",
            "unit": "mA",
            "min": 20.0,
            "max": 1000.0,
            "step": 1.0,
            "writable": True,
            "options": None,
            "translation_key": None,
        }
    ],
    "commands": ["reset", "self_test"],
    "online": True,
    "values": {"leak": 31.5},
    "setpoint_values": {"leak_alarm": 300.0},
    "alarms": {"leak": None},
    "warnings": {},
    "wiring_faults": {},
    "open_alarms": [
        {
            "id": "a1",
            "kind": "alarm",
            "device_id": "kitchen",
            "channel": "leak",
            "raised_at": 1.5,
            "value_at_alarm": 512.0,
            "detail": None,
            "active": True,
            "acknowledged": False,
            "acknowledged_by": None,
            "acknowledged_at": None,
        }
    ],
    "unsupported": [],
    "lockout": None,
}


def test_a_device_round_trips() -> None:
    device = Device.from_dict(DEVICE)
    assert device.to_dict() == DEVICE
    assert device.channels[0].kind is ChannelKind.RESIDUAL_CURRENT
    assert device.commands == {CommandName.RESET, CommandName.SELF_TEST}
    assert device.state.open_alarms[0].kind is AlarmKind.ALARM
    # Null is "cannot be decided yet", never "no alarm".
    assert device.state.alarms == {"leak": None}


def test_a_newer_bridge_s_fields_and_values_are_kept() -> None:
    raw = {
        **DEVICE,
        "floor": 2,  # a field this version does not know
        "kind": "smoke_detector",  # a kind this version does not know
        "channels": [{**CHANNEL, "kind": "humidity", "precision": 1}],
        "commands": ["lock_out", "reset"],  # sorted, as the bridge sends them
    }
    device = Device.from_dict(raw)
    assert device.kind == "smoke_detector"
    assert device.channels[0].kind == "humidity"
    assert device.channels[0].extra == {"precision": 1}
    assert device.state.extra == {"floor": 2}
    assert "lock_out" in device.commands
    assert device.to_dict() == raw


def test_what_a_client_needs_is_required() -> None:
    with pytest.raises(ValueError, match="'id'"):
        Device.from_dict({**DEVICE, "id": ""})
    with pytest.raises(ValueError, match="no bounds"):
        Setpoint.from_dict({"key": "s", "kind": "delay"})
    with pytest.raises(ValueError, match="'kind'"):
        Channel.from_dict({"key": "c"})


def test_events_stored_and_held() -> None:
    stored = {
        "seq": 7,
        "id": "e7",
        "type": "alarm_raised",
        "at": 2.0,
        "device_id": "kitchen",
        "channel": "leak",
        "data": {"value": 512.0},
    }
    held = {**stored, "seq": None, "stored": False}
    assert BridgeEvent.from_dict(stored).to_dict() == stored
    assert BridgeEvent.from_dict(stored).type is EventType.ALARM_RAISED
    assert BridgeEvent.from_dict(held).to_dict() == held
    assert not BridgeEvent.from_dict(held).stored
    with pytest.raises(ValueError, match="integer 'seq'"):
        BridgeEvent.from_dict({**stored, "seq": None})
    newer = {**stored, "type": "hazard_opened", "site": "flat-2"}
    event = BridgeEvent.from_dict(newer)
    assert event.type == "hazard_opened"
    assert event.to_dict() == newer


def test_info_status_and_snapshot_round_trip() -> None:
    storage = {
        "state": "on_reserve",
        "problem": True,
        "since": 3.0,
        "error": None,
        "held_events": 0,
        "free_bytes": 1024,
        "reserve_bytes": 0,
    }
    schedule = {
        "alarm_interval_s": 1.0,
        "effective_alarm_interval_s": 1.0,
        "alarm_round_s": 0.4,
        "alarm_line_share": 0.75,
        "overloaded": False,
        "alarm_gap_max_s": 1.1,
        "queued_commands": 0,
        "queued_gateway_requests": 2,
    }
    info = {
        "bridge_id": "b",
        "version": "0.1.0",
        "api_version": 1,
        "schema_version": 1,
        "min_supported_schema_version": 1,
        "last_seq": 7,
        "buses": [
            {
                "id": "line-1",
                "line": "/dev/ttyUSB0 9600 8N1",
                "up": True,
                "devices": ["kitchen"],
                "stats": {"transactions": 10},
                "schedule": schedule,
            }
        ],
        "storage": storage,
        "gateway": {"tcp_port": 5020, "rtu_over_tcp_port": None, "clients": 1, "stats": None},
    }
    parsed = BridgeInfo.from_dict(info)
    assert parsed.to_dict() == info
    assert parsed.storage is not None and parsed.storage.state is StorageState.ON_RESERVE
    status = {
        "status": "degraded",
        "problems": ["storage_on_reserve"],
        "storage": storage,
        "buses": {"line-1": {"up": True, **schedule}},
    }
    assert BridgeStatus.from_dict(status).to_dict() == status
    snapshot = {
        "type": "snapshot",
        "schema_version": 1,
        "min_supported_schema_version": 1,
        "info": info,
        "devices": [DEVICE],
        "alarms": DEVICE["open_alarms"],
        "last_seq": 7,
        "held_events": [],
        "hazards": [HAZARD],
        "statistics": STATISTICS,
        "site": {
            "id": "flat-3",
            "name": "Flat 3",
            "region": "jp",
            "latitude": 35.68,
            "longitude": 139.76,
            "supply_system": "single_phase_3wire",
            "contracts": [{"unit": "kVA", "value": 6.0}],
        },
    }
    assert Snapshot.from_dict(snapshot).to_dict() == snapshot


def test_a_hazard_statistics_and_a_lockout_round_trip() -> None:
    hazard = Hazard.from_dict(HAZARD)
    assert hazard.to_dict() == HAZARD
    assert hazard.state is HazardState.ACKNOWLEDGED and hazard.open
    assert hazard.acknowledged is not None and hazard.acknowledged.who == "Alice"
    assert HazardStatistics.from_dict(STATISTICS).to_dict() == STATISTICS
    locked = {**DEVICE, "lockout": LOCKOUT}
    device = Device.from_dict(locked)
    assert device.state.lockout is not None and device.state.lockout.until is None
    assert device.to_dict() == locked
    eliminated = {**HAZARD, "state": "eliminated", "note": "loose neutral", "eliminated": ACTOR}
    assert not Hazard.from_dict(eliminated).open
    with pytest.raises(ValueError, match="opened_at"):
        Hazard.from_dict({**HAZARD, "opened_at": None})


def test_an_alarm_kind_it_does_not_know_is_not_an_alarm() -> None:
    alarm = Alarm.from_dict({**DEVICE["open_alarms"][0], "kind": "hazard"})
    assert alarm.kind == "hazard"
    assert not alarm.is_alarm


def test_enum_or_str() -> None:
    assert enum_or_str(EventType, "bus_down") is EventType.BUS_DOWN
    assert enum_or_str(EventType, "bus_melted") == "bus_melted"


MODE_SETPOINT = {
    "key": "protection_mode",
    "name": "Protection mode",
    "kind": "mode",
    "unit": None,
    "min": 0.0,
    "max": 2.0,
    "step": 1.0,
    "writable": True,
    "options": {"off": 0, "alarm": 1, "trip": 2},
    "translation_key": "protection_mode",
}


def test_a_mode_setpoint_carries_its_options_and_its_translation_key() -> None:
    mode = Setpoint.from_dict(MODE_SETPOINT)
    assert mode.to_dict() == MODE_SETPOINT
    assert list(mode.options) == ["off", "alarm", "trip"]
    assert mode.translation_key == "protection_mode"
    assert (mode.option_of(2), mode.option_of(2.0), mode.option_of(7)) == ("trip", "trip", None)
    assert (mode.option_of(None), mode.option_of("trip"), mode.option_of(True)) == (None,) * 3


def test_a_setpoint_of_a_bridge_before_options_still_parses() -> None:
    old = {k: v for k, v in MODE_SETPOINT.items() if k not in ("options", "translation_key")}
    setpoint = Setpoint.from_dict(old)
    assert (setpoint.options, setpoint.translation_key) == ({}, None)
    # Options that are not register values are dropped, never guessed.
    odd = Setpoint.from_dict({**MODE_SETPOINT, "options": {"off": 0, "on": True, "x": "1"}})
    assert odd.options == {"off": 0}
