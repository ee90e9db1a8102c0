"""The hazard book and its statistics, on fixed clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from electrical_safety_bridge.common.enums import AlarmKind, HazardState
from electrical_safety_bridge.common.errors import UnknownHazard
from electrical_safety_bridge.common.workflow import Actor, HazardStatistics
from electrical_safety_bridge.safety.alarms import Alarm
from electrical_safety_bridge.safety.hazards import HazardBook, hazard_statistics, month_start


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def alarm(alarm_id: str, raised_at: float, channel: str = "residual_current") -> Alarm:
    return Alarm(alarm_id, AlarmKind.ALARM, "asj", channel, raised_at, 333)


def test_a_hazard_moves_open_acknowledged_eliminated() -> None:
    book = HazardBook()
    hazard = book.open(alarm("a1", at("2026-03-01T08:00:00")))
    assert hazard is not None and hazard.state == HazardState.OPEN
    assert book.open(alarm("a1", at("2026-03-01T08:00:00"))) is None, "one per alarm record"
    assert book.by_alarm("a1") == hazard
    with pytest.raises(ValueError, match="only an acknowledged hazard"):
        book.eliminate(hazard.id, Actor("x", "api", 0.0), "fixed")
    actor = Actor("Alice", "api", at("2026-03-01T08:01:00"))
    acknowledged = book.acknowledge(hazard.id, actor)
    assert acknowledged is not None and acknowledged.acknowledged == actor
    assert book.acknowledge(hazard.id, actor) is None, "only once"
    with pytest.raises(ValueError, match="'note'"):
        book.eliminate(hazard.id, actor, "  ")
    done = book.eliminate(hazard.id, actor, " a nail through the cable; replaced ")
    assert (done.state, done.note, done.active) == (
        HazardState.ELIMINATED,
        "a nail through the cable; replaced",
        False,
    )
    assert book.hazards() == [] and book.hazards(state=HazardState.ELIMINATED) == [done]
    with pytest.raises(UnknownHazard):
        book.get("nope")


def test_statistics_count_this_month_in_the_given_time_zone() -> None:
    book = HazardBook()
    # Last month: opened, acknowledged and eliminated then; counted only while open.
    old = book.open(alarm("a0", at("2026-02-27T10:00:00"), "temperature_1"))
    assert old is not None
    book.acknowledge(old.id, Actor("Bob", "api", at("2026-02-27T10:10:00")))
    # This month: one eliminated (ack after 60 s, eliminated after 600 s), one acknowledged
    # after 120 s, one still open.
    first = book.open(alarm("a1", at("2026-03-02T08:00:00")))
    second = book.open(alarm("a2", at("2026-03-03T08:00:00"), "arc_count"))
    third = book.open(alarm("a3", at("2026-03-04T08:00:00"), "temperature_2"))
    assert first and second and third
    book.acknowledge(first.id, Actor("Alice", "api", at("2026-03-02T08:01:00")))
    book.eliminate(first.id, Actor("Alice", "api", at("2026-03-02T08:10:00")), "fixed")
    book.acknowledge(second.id, Actor("remote:landlord", "remote", at("2026-03-03T08:02:00")))
    now = at("2026-03-15T12:00:00")
    assert hazard_statistics(book.all(), now, UTC) == HazardStatistics(
        open_hazards=3,
        unacknowledged_alarms=1,
        alarms_this_month=3,
        eliminated_this_month=1,
        mean_time_to_acknowledge_s=90.0,
        mean_time_to_eliminate_s=600.0,
        month="2026-03",
    )
    # At UTC+14, 2026-02-28 10:30 UTC is already March: the month starts 14 hours earlier.
    kiribati = timezone(timedelta(hours=14))
    assert month_start(at("2026-02-28T10:30:00"), kiribati) == (
        at("2026-02-28T10:00:00"),
        "2026-03",
    )
    early = hazard_statistics(book.all(), at("2026-02-28T10:30:00"), kiribati)
    assert early.month == "2026-03" and early.alarms_this_month == 3


def test_statistics_without_steps_have_no_means() -> None:
    book = HazardBook()
    book.open(alarm("a1", at("2026-03-02T08:00:00")))
    stats = hazard_statistics(book.all(), at("2026-04-01T00:00:00"), UTC)
    assert stats.to_dict() == {
        "open_hazards": 1,
        "unacknowledged_alarms": 1,
        "alarms_this_month": 0,
        "eliminated_this_month": 0,
        "mean_time_to_acknowledge_s": None,
        "mean_time_to_eliminate_s": None,
        "month": "2026-04",
    }
    assert hazard_statistics([], at("2026-04-01T00:00:00"), UTC).open_hazards == 0


def test_after_a_restart_an_open_hazards_condition_is_unknown_until_read() -> None:
    """What was stored is how the device read before the restart: an open hazard's
    ``active`` is unknown (None) until its device is read again; an eliminated one stays."""
    before = HazardBook()
    gone = before.open(alarm("a1", at("2026-03-01T08:00:00")))
    done = before.open(alarm("a2", at("2026-03-01T09:00:00")))
    assert gone is not None and done is not None
    actor = Actor("Alice", "api", at("2026-03-01T09:10:00"))
    before.acknowledge(done.id, actor)
    before.eliminate(done.id, actor, "replaced the cable")
    after = HazardBook()
    after.load(before.all())
    assert after.get(gone.id).active is None
    assert after.get(done.id).active is False
    refreshed = after.set_active(gone.id, False)
    assert refreshed is not None and refreshed.active is False
    assert after.set_active(gone.id, False) is None, "unchanged"


def test_forgotten_hazards_are_gone_and_their_alarm_could_open_one_again() -> None:
    book = HazardBook()
    hazard = book.open(alarm("a1", at("2026-03-01T08:00:00")))
    kept = book.open(alarm("a2", at("2026-03-01T08:00:00")))
    assert hazard is not None and kept is not None
    book.forget([hazard.id, "hz-unknown"])
    assert book.all() == [kept]
    assert book.by_alarm("a1") is None
    with pytest.raises(UnknownHazard):
        book.get(hazard.id)
