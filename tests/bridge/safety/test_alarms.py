"""The alarm latch: raised → acknowledged → cleared, with the value at the moment of alarm."""

from __future__ import annotations

import pytest

from electrical_safety_bridge.common.enums import AlarmKind, EventType
from electrical_safety_bridge.safety.alarms import AlarmBook, UnknownAlarm

ALARM = AlarmKind.ALARM


def types(events: list) -> list[EventType]:
    return [e.type for e in events]


def test_alarm_is_raised_once_and_keeps_the_value_at_the_moment_of_alarm() -> None:
    book = AlarmBook()
    assert book.observe(ALARM, "d1", "rc", False, 20, now=1.0) == []
    raised = book.observe(ALARM, "d1", "rc", True, 350, now=2.0)
    assert types(raised) == [EventType.ALARM_RAISED]
    assert raised[0].data["value_at_alarm"] == 350
    assert book.observe(ALARM, "d1", "rc", True, 900, now=3.0) == []
    (alarm,) = book.open_alarms("d1")
    assert alarm.value_at_alarm == 350
    assert alarm.raised_at == 2.0


def test_alarm_stays_latched_after_its_condition_goes_until_acknowledged() -> None:
    book = AlarmBook()
    assert types(book.observe(ALARM, "d1", "rc", True, 350, now=1.0)) == [EventType.ALARM_RAISED]
    assert book.observe(ALARM, "d1", "rc", False, 20, now=2.0) == []
    (alarm,) = book.open_alarms()
    assert not alarm.active
    assert not alarm.acknowledged
    events = book.acknowledge(alarm.id, "tenant", now=3.0)
    assert types(events) == [EventType.ALARM_ACKNOWLEDGED, EventType.ALARM_CLEARED]
    assert events[0].data["acknowledged_by"] == "tenant"
    assert book.open_alarms() == []


def test_acknowledged_alarm_clears_when_its_condition_goes() -> None:
    book = AlarmBook()
    book.observe(ALARM, "d1", "rc", True, 350, now=1.0)
    (alarm,) = book.open_alarms()
    assert types(book.acknowledge(alarm.id, "owner", now=2.0)) == [EventType.ALARM_ACKNOWLEDGED]
    assert book.open_alarms()[0].active
    assert types(book.observe(ALARM, "d1", "rc", False, 10, now=3.0)) == [EventType.ALARM_CLEARED]
    assert book.open_alarms() == []


def test_condition_returning_before_acknowledgement_is_the_same_alarm() -> None:
    book = AlarmBook()
    book.observe(ALARM, "d1", "rc", True, 350, now=1.0)
    book.observe(ALARM, "d1", "rc", False, 10, now=2.0)
    assert book.observe(ALARM, "d1", "rc", True, 400, now=3.0) == []
    (alarm,) = book.open_alarms()
    assert alarm.active
    assert alarm.value_at_alarm == 350


def test_wiring_faults_are_kept_apart_from_alarms() -> None:
    book = AlarmBook()
    fault = book.observe(
        AlarmKind.WIRING_FAULT, "d1", "t1", True, None, now=1.0, detail="open_circuit"
    )
    assert types(fault) == [EventType.WIRING_FAULT_RAISED]
    assert fault[0].data["detail"] == "open_circuit"
    alarm = book.observe(ALARM, "d1", "t1", True, 90, now=1.0)
    assert types(alarm) == [EventType.ALARM_RAISED]
    assert {a.kind for a in book.open_alarms("d1")} == {ALARM, AlarmKind.WIRING_FAULT}


def test_acknowledging_twice_changes_nothing_and_unknown_ids_are_refused() -> None:
    book = AlarmBook()
    book.observe(ALARM, "d1", "rc", True, 350, now=1.0)
    (alarm,) = book.open_alarms()
    book.acknowledge(alarm.id, "a", now=2.0)
    assert book.acknowledge(alarm.id, "b", now=3.0) == []
    assert book.open_alarms()[0].acknowledged_by == "a"
    with pytest.raises(UnknownAlarm):
        book.acknowledge("nope", "a", now=4.0)


def test_alarms_of_other_devices_are_separate() -> None:
    book = AlarmBook()
    book.observe(ALARM, "d1", "rc", True, 350, now=1.0)
    book.observe(ALARM, "d2", "rc", True, 450, now=2.0)
    assert [a.device_id for a in book.open_alarms()] == ["d1", "d2"]
    assert [a.value_at_alarm for a in book.open_alarms("d2")] == [450]
