"""The report's sections as pure functions: the edges the simulated month does not reach."""

from __future__ import annotations

from datetime import UTC

import pytest

from electrical_safety_bridge.common.enums import EventType
from electrical_safety_bridge.common.site import Finding
from electrical_safety_bridge.report.collect import (
    ChannelFact,
    DeviceFacts,
    SetpointFact,
    alarm_speed_section,
    channel_section,
    finding_section,
    outage_section,
    record_section,
)
from electrical_safety_bridge.report.model import (
    AlarmSpeed,
    InvalidPeriod,
    month_period,
    previous_month,
)
from electrical_safety_bridge.storage.event_store import StoredEvent
from electrical_safety_bridge.storage.telemetry_stats import HourlyStat

PERIOD = month_period("2026-10", UTC, "UTC")
START, END = PERIOD.start, PERIOD.end
DEVICES = {
    "rc": DeviceFacts(
        "Kitchen",
        channels={"residual_current": ChannelFact("residual_current", "mA", "rc_setpoint")},
        setpoints={"rc_setpoint": SetpointFact("residual_current_alarm", "mA", 500.0)},
    )
}


def event(
    seq: int, type_: EventType, at: float, device: str | None = "rc", **data: object
) -> StoredEvent:
    return StoredEvent(seq, f"e{seq}", type_, at, device, data.pop("channel", None), data)  # type: ignore[arg-type]


def test_a_month_is_its_first_midnight_to_the_next() -> None:
    assert (START, END) == (1790812800.0, 1793491200.0)
    assert month_period("2026-12", UTC, "UTC").end == 1798761600.0  # into January
    assert previous_month(START + 5, UTC) == "2026-09"
    for bad in ("2026-13", "2026-1", "26-10", "1969-12"):
        with pytest.raises(InvalidPeriod, match=bad):
            month_period(bad, UTC, "UTC")


def test_alarm_speed_summarises_the_detection_windows_and_counts_older_alarms() -> None:
    windows = [0.2 + 0.01 * n for n in range(40)]
    events = [
        *(
            event(n, EventType.ALARM_RAISED, START + n, detection_window_s=w)
            for n, w in enumerate(windows)
        ),
        # An older bridge's alarm (no window), and events that are no alarm raised.
        event(90, EventType.ALARM_RAISED, START + 90),
        event(91, EventType.WIRING_FAULT_RAISED, START + 91, detection_window_s=9.0),
        event(92, EventType.ALARM_CLEARED, START + 92, detection_window_s=9.0),
    ]
    speed = alarm_speed_section(events)
    assert speed == AlarmSpeed(alarms=41, measured=40, median_s=0.395, p95_s=0.57, max_s=0.59)
    assert alarm_speed_section([event(1, EventType.ALARM_RAISED, START)]) == AlarmSpeed(alarms=1)


def test_outages_that_began_before_or_outlast_the_period() -> None:
    events = [
        event(1, EventType.DEVICE_ONLINE, START + 3600, recovered=True),  # lost in September
        event(2, EventType.DEVICE_ONLINE, START + 7200, recovered=False),  # a first read only
        event(3, EventType.BUS_DOWN, END - 1800, None, bus="line"),  # still down at the end
    ]
    first, last = outage_section(events, PERIOD, DEVICES, generated_at=END + 86400)
    assert (first.began_before, first.start, first.hours, first.device_name) == (
        True,
        START,
        1.0,
        "Kitchen",
    )
    assert (last.kind, last.bus, last.end, last.hours) == ("bus", "line", None, 0.5)
    # The running month: an ongoing outage lasts until now, not to the month's end.
    (ongoing,) = outage_section(events[2:], PERIOD, DEVICES, generated_at=END - 900)
    assert ongoing.hours == 0.25


def test_the_setpoint_at_the_end_comes_from_a_later_change() -> None:
    later = [
        event(
            9,
            EventType.SETPOINT_CHANGED,
            END + 60,
            channel="rc_setpoint",
            **{"from": 400, "to": 500},
        )
    ]
    rows = [HourlyStat("rc", "residual_current", int(START), 2, 40.0, 10.0, 30.0)]
    (stats,) = channel_section(rows, DEVICES, [], later, PERIOD)
    assert [(s.at, s.value) for s in stats.setpoint_steps] == [(START, 400.0)]
    assert (stats.setpoint, stats.maximum, stats.typical, stats.of_setpoint) == (
        400.0,
        30.0,
        20.0,
        0.075,
    )


def test_records_outside_the_period_are_left_out_and_one_without_a_time_is_a_bug() -> None:
    records = [
        {"at": START - 1, "type": "self_test_result", "result": "pass"},
        {"at": START + 1, "kind": "cn_routine_patrol", "by": "Wang"},
    ]
    (patrol,) = record_section(records, DEVICES, PERIOD)
    assert (patrol.what, patrol.who, patrol.result) == ("cn_routine_patrol", "Wang", "recorded")
    with pytest.raises(ValueError, match="needs 'at'"):
        record_section([{"type": "self_test_result"}], DEVICES, PERIOD)


def test_findings_most_severe_first_with_their_explanation() -> None:
    def finding(rule: str, severity: str) -> Finding:
        return Finding(rule, severity, "seed 004", "rc", None, 1, 2, "A")

    entries = finding_section(
        [finding("JP-CT-125", "info"), finding("CN-RC-SETPOINT", "error")],
        DEVICES,
        lambda f: f"explained {f.rule_id}",
    )
    assert [(e.rule_id, e.explanation, e.device_name) for e in entries] == [
        ("CN-RC-SETPOINT", "explained CN-RC-SETPOINT", "Kitchen"),
        ("JP-CT-125", "explained JP-CT-125", "Kitchen"),
    ]
