"""The pure parts of the proof: time limits, due dates, checklists and record checks.

Time limits: GB 50166-2019 §4.8.6(3) and the residual-current acceptance rule (reference/
devices.md §5, GB-ARC-2 and GB-RC-1): an alarm within 30 s; §4.8.5 (GB-T-1): a temperature
detector's within 40 s.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, time

import pytest

from electrical_safety_bridge.common.enums import ChannelKind, InspectionKind, Region
from electrical_safety_bridge.common.proof import (
    InspectionDue,
    InspectionRecord,
    SelfTestRecord,
    SelfTestScheduleEntry,
)
from electrical_safety_bridge.compliance.checklists import JP_INSTALLATION_CHECKLIST
from electrical_safety_bridge.profiles.loader import find_profile
from electrical_safety_bridge.safety import inspections
from electrical_safety_bridge.safety.inspections import (
    InvalidInspection,
    checklist,
    checklists,
    inspections_due,
    kinds_for_region,
    parse_inspection,
)
from electrical_safety_bridge.safety.self_tests import (
    DETECTOR_LIMIT_S,
    NO_SELF_TEST_COMMAND,
    TEMPERATURE_LIMIT_S,
    UNVERIFIED_PROFILE,
    SelfTestLimits,
    SelfTestSchedule,
    cannot_self_test,
    next_due,
    time_limit_s,
)


def test_the_standard_limits_are_30_s_and_40_s_for_temperature() -> None:
    # GB 50166-2019 §4.8.6(3) / GB-RC-1: 30 s; §4.8.5 / GB-T-1: 40 s.
    assert (DETECTOR_LIMIT_S, TEMPERATURE_LIMIT_S) == (30.0, 40.0)
    arcm = find_profile("SIM-ARCM")
    assert time_limit_s(arcm) == 30.0
    temperature_only = dataclasses.replace(
        arcm,
        channels=tuple(
            c
            for c in arcm.channels
            if c.kind in (ChannelKind.TEMPERATURE, ChannelKind.ALARM_STATUS)
        ),
    )
    assert any(c.alarm for c in temperature_only.channels)
    assert time_limit_s(temperature_only) == 40.0
    assert time_limit_s(temperature_only, SelfTestLimits(2.0, 3.0)) == 3.0


def test_only_verified_profiles_with_a_self_test_command_are_tested() -> None:
    arcm = find_profile("SIM-ARCM")
    assert cannot_self_test(arcm) is None
    assert cannot_self_test(dataclasses.replace(arcm, verified=False)) == UNVERIFIED_PROFILE
    assert cannot_self_test(find_profile("ASJ")) == NO_SELF_TEST_COMMAND


def _local(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()  # naive: the local time zone


def test_next_due_is_every_days_after_the_last_test_at_the_time_of_day() -> None:
    monthly = SelfTestSchedule(every_days=30, at=time(10, 0))
    # Never tested: the next 10:00 from now.
    assert next_due(monthly, None, _local("2026-03-01T09:00")) == _local("2026-03-01T10:00")
    assert next_due(monthly, None, _local("2026-03-01T10:30")) == _local("2026-03-02T10:00")
    # Thirty days after the last test, on that day at 10:00 (whatever the test's own hour).
    assert next_due(monthly, _local("2026-03-01T10:00:07"), 0) == _local("2026-03-31T10:00")
    assert next_due(monthly, _local("2026-03-01T16:00"), 0) == _local("2026-03-31T10:00")


def test_wire_models_round_trip_and_keep_unknown_keys() -> None:
    record = {
        "id": "t1",
        "device_id": "arcm",
        "result": "pass",
        "trigger": "scheduled",
        "at": 100.0,
        "due_at": 90.0,
        "started_at": 95.0,
        "seconds_to_alarm": 5.0,
        "time_limit_s": 30.0,
        "channel": "residual_current",
        "who": "bridge (schedule)",
        "message": "",
        "newer": 1,
    }
    assert SelfTestRecord.from_dict(record).to_dict() == record
    entry = {
        "device_id": "arcm",
        "enabled": True,
        "reason": None,
        "every_days": 30.0,
        "at": "10:00",
        "next_due": 200.0,
        "pending": False,
        "last": record,
    }
    assert SelfTestScheduleEntry.from_dict(entry).to_dict() == entry
    inspection = {
        "id": "i1",
        "kind": "cn_routine_patrol",
        "at": 1.0,
        "who": "Li",
        "items": [{"id": "x", "outcome": "ok", "note": ""}],
        "note": "",
    }
    assert InspectionRecord.from_dict(inspection).to_dict() == inspection
    due = {"kind": "jp_overall_check", "every_days": 365.0, "last_at": None, "due_at": 5.0}
    assert InspectionDue.from_dict(due).to_dict() == due | {"overdue": False}


def test_checklists_have_stable_unique_ids_and_every_language() -> None:
    kinds = [c.kind for c in checklists()]
    assert kinds == [
        InspectionKind.JP_EQUIPMENT_CHECK,
        InspectionKind.JP_OVERALL_CHECK,
        InspectionKind.CN_ROUTINE_PATROL,
        InspectionKind.JP_INSTALLATION,
    ]
    ids = [item.id for c in checklists() for item in c.items]
    assert len(ids) == len(set(ids))
    for c in checklists():
        for item in c.items:
            assert set(item.text) == set(inspections.LANGUAGES) and all(item.text.values())
            assert item.source
    # Seed 004 §6: 100-400 mA, 400-800 mA on the grounding wire.
    equipment = checklist(InspectionKind.JP_EQUIPMENT_CHECK)
    assert equipment is not None and equipment.every_days == 182.0
    setpoint = next(i for i in equipment.items if i.id == "jp_eq_setpoint")
    assert "100–400 mA" in setpoint.text["en"] and setpoint.source == "seed 004 §6"
    # The installation checklist comes from the compliance rules, and is ticked once.
    installation = checklist(InspectionKind.JP_INSTALLATION)
    assert installation is not None and installation.every_days is None
    assert installation.items == JP_INSTALLATION_CHECKLIST
    assert kinds_for_region(Region.JP) == (
        InspectionKind.JP_EQUIPMENT_CHECK,
        InspectionKind.JP_OVERALL_CHECK,
    )
    assert kinds_for_region(Region.CN) == (InspectionKind.CN_ROUTINE_PATROL,)
    assert kinds_for_region(Region.GENERIC) == ()


def _all_ok(kind: InspectionKind) -> list[dict[str, str]]:
    found = checklist(kind)
    assert found is not None
    return [{"id": item.id, "outcome": "ok"} for item in found.items]


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"kind": "weekly", "items": []}, "kind"),
        ({"kind": "jp_installation", "items": []}, "items"),
        ({"kind": "cn_routine_patrol"}, "items"),
        ({"kind": "cn_routine_patrol", "items": [{"id": "nope", "outcome": "ok"}]}, "items[0].id"),
        ({"kind": "cn_routine_patrol", "items": [{"id": "cn_pt_setpoints"}]}, "items[0].outcome"),
        (
            {
                "kind": "cn_routine_patrol",
                "items": [{"id": "cn_pt_setpoints", "outcome": "not_ok"}],
            },
            "items[0].note",
        ),
        (
            {"kind": "cn_routine_patrol", "items": [{"id": "cn_pt_setpoints", "outcome": "ok"}]},
            "items",
        ),
        ({"kind": "cn_routine_patrol", "items": "all fine"}, "items"),
    ],
)
def test_a_record_that_is_not_complete_is_refused_naming_the_key(
    body: dict[str, object], key: str
) -> None:
    with pytest.raises(InvalidInspection) as caught:
        parse_inspection(body, "Li", 1.0)
    assert caught.value.key == key
    assert f"'{key}'" in str(caught.value)


def test_a_complete_record_keeps_every_item_in_checklist_order() -> None:
    items = _all_ok(InspectionKind.CN_ROUTINE_PATROL)[::-1]
    items[0] = {**items[0], "outcome": "not_ok", "note": " CT cover cracked "}
    record = parse_inspection(
        {"kind": "cn_routine_patrol", "items": items, "note": "monthly"}, "Li", 7.0
    )
    found = checklist(InspectionKind.CN_ROUTINE_PATROL)
    assert found is not None
    assert [i.id for i in record.items] == [i.id for i in found.items]
    assert record.items[-1].note == "CT cover cracked" and record.who == "Li"


def test_due_dates_and_overdue() -> None:
    day = 86400.0
    tracked = [InspectionKind.JP_EQUIPMENT_CHECK, InspectionKind.CN_ROUTINE_PATROL]
    now = 1000 * day
    due = inspections_due(
        tracked,
        {InspectionKind.CN_ROUTINE_PATROL: 7.0},
        {"jp_equipment_check": now - 100 * day, "cn_routine_patrol": now - 8 * day},
        now,
    )
    assert [(d.kind, d.every_days, d.overdue) for d in due] == [
        (InspectionKind.JP_EQUIPMENT_CHECK, 182.0, False),
        (InspectionKind.CN_ROUTINE_PATROL, 7.0, True),
    ]
    assert due[0].due_at == now + 82 * day
    # Never recorded: due at once, there is no proof of it yet.
    (never,) = inspections_due([InspectionKind.JP_OVERALL_CHECK], {}, {}, now)
    assert never.overdue and never.last_at is None
