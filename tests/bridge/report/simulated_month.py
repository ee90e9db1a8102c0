"""A simulated month for the safety report: events and hourly readings written into a real
event store and a real statistics file, and the numbers a correct report must show.

October 2026 in Asia/Shanghai. The residual-current detector (``rc``) has three leakage
alarms, one temperature alarm and a wiring fault; four hazards (two eliminated by Alice,
one acknowledged by Bob, one left open); a setpoint raised from 300 to 500 mA; two commands;
three self-tests (two passed, one failed); the other detector (``other``) is offline for
three hours and the bus is down for half an hour; one early warning. Events just outside
the month (30 September, 1 November) must not count. Hourly leakage follows a daily cycle
around 30 mA with one peak of 412 mA; temperature 1 a cycle around 35 °C with a peak of
61.5 °C.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from electrical_safety_bridge.common.enums import AlarmKind, EventType
from electrical_safety_bridge.common.workflow import Actor, Hazard
from electrical_safety_bridge.safety.alarms import Alarm
from electrical_safety_bridge.safety.events import BridgeEvent
from electrical_safety_bridge.storage.event_store import EventStore
from electrical_safety_bridge.storage.telemetry_stats import HourlyStat, TelemetryStats

ZONE_NAME = "Asia/Shanghai"
ZONE = ZoneInfo(ZONE_NAME)
PERIOD = "2026-10"
LEAK_PEAK_MA = 412.0
TEMP_PEAK_C = 61.5


def at(month: int, day: int, hour: int, minute: int = 0) -> float:
    """A moment of 2026 in Shanghai."""
    return datetime(2026, month, day, hour, minute, tzinfo=ZONE).timestamp()


@dataclass
class Expected:
    """What the report of the month must say."""

    summary: dict[str, Any]
    alarm_counts: dict[str, int]
    leak_maximum: float
    leak_maximum_hour: float
    leak_typical: float
    temp_maximum: float
    setpoint_steps: list[float]
    timeline: list[tuple[str, str | None, str | None, str]] = field(default_factory=list)
    names: tuple[str, ...] = ("Alice", "Bob")


def _alarm_events(
    alarm_id: str, kind: AlarmKind, device: str, channel: str, raised: float, value: Any
) -> list[BridgeEvent]:
    raised_type, acked_type, cleared_type = (
        (EventType.ALARM_RAISED, EventType.ALARM_ACKNOWLEDGED, EventType.ALARM_CLEARED)
        if kind is AlarmKind.ALARM
        else (
            EventType.WIRING_FAULT_RAISED,
            EventType.WIRING_FAULT_ACKNOWLEDGED,
            EventType.WIRING_FAULT_CLEARED,
        )
    )
    alarm = Alarm(alarm_id, kind, device, channel, raised, value)
    acked = Alarm(
        alarm_id,
        kind,
        device,
        channel,
        raised,
        value,
        acknowledged_by="Bob",
        acknowledged_at=raised + 120,
    )
    cleared = Alarm(
        alarm_id,
        kind,
        device,
        channel,
        raised,
        value,
        active=False,
        acknowledged_by="Bob",
        acknowledged_at=raised + 120,
        inactive_since=raised + 600,
    )
    return [
        BridgeEvent(raised_type, raised, device, channel, alarm.as_dict()),
        BridgeEvent(acked_type, raised + 120, device, channel, acked.as_dict()),
        BridgeEvent(cleared_type, raised + 600, device, channel, cleared.as_dict()),
    ]


def _hazard_events(
    hazard_id: str,
    alarm_id: str,
    kind: AlarmKind,
    device: str,
    channel: str,
    opened: float,
    value: Any,
    acknowledged: tuple[str, float] | None,
    eliminated: tuple[str, float, str] | None,
) -> list[BridgeEvent]:
    base = Hazard(
        id=hazard_id,
        alarm_id=alarm_id,
        kind=kind,
        device_id=device,
        channel=channel,
        state="open",
        opened_at=opened,
        value_at_alarm=value,
        detail=None,
        active=True,
        acknowledged=None,
        eliminated=None,
        note=None,
    )
    events = [BridgeEvent(EventType.HAZARD_OPENED, opened, device, channel, base.to_dict())]
    if acknowledged is not None:
        who, when = acknowledged
        ack = Actor(who, "home_assistant", when)
        base = Hazard(**{**_fields(base), "state": "acknowledged", "acknowledged": ack})
        events.append(
            BridgeEvent(EventType.HAZARD_ACKNOWLEDGED, when, device, channel, base.to_dict())
        )
    if eliminated is not None:
        who, when, note = eliminated
        base = Hazard(
            **{
                **_fields(base),
                "state": "eliminated",
                "active": False,
                "eliminated": Actor(who, "home_assistant", when),
                "note": note,
            }
        )
        events.append(
            BridgeEvent(EventType.HAZARD_ELIMINATED, when, device, channel, base.to_dict())
        )
    return events


def _fields(hazard: Hazard) -> dict[str, Any]:
    return {f.name: getattr(hazard, f.name) for f in dataclasses.fields(hazard)}


def hourly_rows(rc: str) -> list[HourlyStat]:
    """Every hour of October: leakage and temperature 1 of ``rc``, with one peak each."""
    rows = []
    start, end = int(at(10, 1, 0)), int(at(11, 1, 0))
    leak_peak_hour, temp_peak_hour = int(at(10, 17, 14)), int(at(10, 9, 3))
    for hour in range(start, end, 3600):
        cycle = math.sin(2 * math.pi * ((hour - start) / 86400))
        leak_mean = round(30 + 8 * cycle, 3)
        leak_max = LEAK_PEAK_MA if hour == leak_peak_hour else leak_mean + 5
        temp_mean = round(35 + 4 * cycle, 3)
        temp_max = TEMP_PEAK_C if hour == temp_peak_hour else temp_mean + 1
        rows.append(
            HourlyStat(rc, "residual_current", hour, 360, leak_mean * 360, leak_mean - 4, leak_max)
        )
        rows.append(
            HourlyStat(rc, "temperature_1", hour, 360, temp_mean * 360, temp_mean - 1, temp_max)
        )
    # An hour of September and one of November, outside the month: never in the report.
    for hour in (start - 7200, end + 3600):
        rows.append(HourlyStat(rc, "residual_current", hour, 1, 999.0, 999.0, 999.0))
    return rows


def write_month(data_dir: Path, rc: str, other: str, bus: str) -> Expected:
    """Write the month into ``data_dir``'s event store and statistics file (before the
    bridge starts, so it loads the hazards as it would after a restart)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    events: list[BridgeEvent] = []
    leak_alarms = [(at(10, 3, 9), 331), (at(10, 17, 14, 20), 412), (at(10, 28, 22), 350)]
    for index, (when, value) in enumerate(leak_alarms, 1):
        events += _alarm_events(f"r{index}", AlarmKind.ALARM, rc, "residual_current", when, value)
    events += _alarm_events("t1", AlarmKind.ALARM, rc, "temperature_2", at(10, 9, 3), 61.5)
    events += _alarm_events(
        "w1", AlarmKind.WIRING_FAULT, rc, "temperature_3", at(10, 12, 8), "open_circuit"
    )
    # Hazards: two eliminated by Alice, one acknowledged by Bob, one still open.
    events += _hazard_events(
        "h1",
        "r1",
        AlarmKind.ALARM,
        rc,
        "residual_current",
        at(10, 3, 9),
        331,
        ("Bob", at(10, 3, 9, 5)),
        ("Alice", at(10, 4, 10), "Wet socket dried and replaced"),
    )
    events += _hazard_events(
        "h2",
        "r2",
        AlarmKind.ALARM,
        rc,
        "residual_current",
        at(10, 17, 14, 20),
        412,
        ("Bob", at(10, 17, 14, 30)),
        ("Alice", at(10, 18, 9), "Kettle with a leaking element"),
    )
    events += _hazard_events(
        "h3",
        "t1",
        AlarmKind.ALARM,
        rc,
        "temperature_2",
        at(10, 9, 3),
        61.5,
        ("Bob", at(10, 9, 3, 10)),
        None,
    )
    # Eliminated only in November: open at the end of October, and shown without it.
    events += _hazard_events(
        "h4",
        "w1",
        AlarmKind.WIRING_FAULT,
        rc,
        "temperature_3",
        at(10, 12, 8),
        "open_circuit",
        None,
        ("Alice", at(11, 2, 9), "Sensor lead reconnected"),
    )
    events.append(
        BridgeEvent(
            EventType.SETPOINT_CHANGED,
            at(10, 15, 11),
            rc,
            "residual_current_alarm_setpoint",
            {"who": "Alice", "from": 300, "to": 500, "confirmed": True},
        )
    )
    events.append(
        BridgeEvent(
            EventType.COMMAND,
            at(10, 4, 10, 5),
            rc,
            None,
            {
                "device_id": rc,
                "command": "reset",
                "outcome": "confirmed",
                "reason": None,
                "message": "",
                "state": None,
                "who": "Alice",
            },
        )
    )
    events.append(
        BridgeEvent(
            EventType.COMMAND,
            at(10, 9, 3, 2),
            rc,
            None,
            {
                "device_id": rc,
                "command": "close",
                "outcome": "refused",
                "reason": "alarm_active",
                "message": "close refused",
                "state": None,
                "who": "Bob",
            },
        )
    )
    for day, result in ((6, "pass"), (13, "pass"), (20, "fail")):
        events.append(
            BridgeEvent(
                EventType.SELF_TEST,
                at(10, day, 10),
                rc,
                None,
                {"result": result, "seconds": 4.2 if result == "pass" else None, "window_s": 30.0},
            )
        )
    events.append(BridgeEvent(EventType.DEVICE_OFFLINE, at(10, 20, 10), other, None, {}))
    events.append(
        BridgeEvent(EventType.DEVICE_ONLINE, at(10, 20, 13), other, None, {"recovered": True})
    )
    events.append(BridgeEvent(EventType.BUS_DOWN, at(10, 25, 0), None, None, {"bus": bus}))
    events.append(BridgeEvent(EventType.BUS_UP, at(10, 25, 0, 30), None, None, {"bus": bus}))
    events.append(
        BridgeEvent(
            EventType.EARLY_WARNING,
            at(10, 26, 6),
            rc,
            "residual_current",
            {"projected_days": 12.0, "detail": "rising leakage"},
        )
    )
    # Outside the month: the last hour of September and the first of November.
    events += _alarm_events("x1", AlarmKind.ALARM, rc, "residual_current", at(9, 30, 23), 999)
    events += _alarm_events("x2", AlarmKind.ALARM, rc, "residual_current", at(11, 1, 0, 30), 998)
    events.append(BridgeEvent(EventType.SELF_TEST, at(11, 1, 1), rc, None, {"result": "fail"}))
    events.sort(key=lambda e: e.at)
    store = EventStore(data_dir / "events.sqlite3")
    try:
        store.append_many(events)
    finally:
        store.close()
    rows = hourly_rows(rc)
    stats = TelemetryStats(data_dir / "telemetry.sqlite3")
    try:
        stats.merge(rows)
    finally:
        stats.close()
    month_leak = [r for r in rows if r.channel == "residual_current" and r.samples > 1]
    return Expected(
        summary={
            "open_hazards": 2,
            "hazards_opened": 4,
            "hazards_eliminated": 2,
            "alarms": 4,
            "wiring_faults": 1,
            "tests_passed": 2,
            "tests_failed": 1,
            "outages": 2,
            "outage_hours": 3.5,
            "early_warnings": 1,
            "setpoint_changes": 1,
            "commands": 2,
        },
        alarm_counts={"residual_current": 3, "temperature": 1, "wiring_fault": 1},
        leak_maximum=LEAK_PEAK_MA,
        leak_maximum_hour=float(int(at(10, 17, 14))),
        leak_typical=round(statistics.median(r.mean for r in month_leak), 3),
        temp_maximum=TEMP_PEAK_C,
        setpoint_steps=[300.0, 500.0],
        timeline=[
            ("h1", "Bob", "Alice", "eliminated"),
            ("h3", "Bob", None, "acknowledged"),
            ("h4", None, None, "open"),
            ("h2", "Bob", "Alice", "eliminated"),
        ],
    )
