"""Self-tests and inspections through the real bridge on a simulated bus.

The standard's limits (30 s, 40 s for temperature: GB 50166-2019 §4.8.5, §4.8.6 and the
acceptance rule of reference/devices.md §5) are the defaults; these tests give the bridge a
2 s limit (stricter, and the configuration allows only stricter) so that a "no response"
does not take 30 real seconds.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from electrical_safety_bridge.bus.bus_settings import BusSettings, DeviceSpec, PollIntervals
from electrical_safety_bridge.common.enums import EventType, InspectionKind
from electrical_safety_bridge.config.bridge_config import BridgeConfig, BusConfig
from electrical_safety_bridge.config.proof_config import ProofConfig
from electrical_safety_bridge.modbus.lines import TcpLine
from electrical_safety_bridge.profiles.loader import find_profile, load_profile_text
from electrical_safety_bridge.safety.events import BridgeEvent
from electrical_safety_bridge.safety.inspections import checklist
from electrical_safety_bridge.safety.self_tests import SelfTestLimits
from electrical_safety_bridge.service import Bridge
from electrical_safety_bridge.simulator import SimulatedBus, SimulatedUnit
from electrical_safety_bridge.storage.event_store import EventStore

from ..conftest import wait_for
from .conftest import SIM_ARCM, Running

LIMIT_S = 2.0


@contextlib.asynccontextmanager
async def proof_bridge(
    data_dir: Path, sim: SimulatedBus | None = None, **proof: Any
) -> AsyncIterator[Running]:
    unverified = load_profile_text(
        SIM_ARCM.read_text(encoding="utf-8").replace("verified: true", "verified: false"),
        "unverified-arcm",
    )
    models = [("arcm", 1, find_profile("SIM-ARCM")), ("asj", 2, find_profile("ASJ"))]
    models.append(("unverified", 3, unverified))
    own_sim = sim is None
    if sim is None:
        sim = SimulatedBus([SimulatedUnit(p, u) for _, u, p in models])
        await sim.serve_tcp("127.0.0.1", 0)
    port = sim.servers[0].port
    assert port is not None
    settings = BusSettings(
        "line",
        TcpLine("127.0.0.1", port),
        intervals=PollIntervals(alarm=0.05, telemetry=0.2, slow=1.0),
        tcp_timeout=0.25,
        offline_after=1.0,
    )
    config = BridgeConfig(
        data_dir=data_dir,
        buses=(BusConfig(settings, tuple(DeviceSpec(i, u, p, i.upper()) for i, u, p in models)),),
        api_port=0,
        proof=ProofConfig(limits=SelfTestLimits(LIMIT_S, LIMIT_S), **proof),
    )
    bridge = Bridge(config)
    await bridge.start()
    session = aiohttp.ClientSession()
    try:
        running = Running(bridge, sim, session, f"http://127.0.0.1:{bridge.api_port}/api/v1")
        units = bridge.buses["line"].units
        await wait_for(lambda: all(u.online for u in units.values()), what="every unit online")
        yield running
    finally:
        await session.close()
        await bridge.stop()
        if own_sim:
            await sim.stop()


def events(running: Running, event_type: EventType, device_id: str) -> list[dict[str, Any]]:
    return [
        e.data for e in running.bridge.store._store.query(types=[event_type], device_id=device_id)
    ]


async def test_a_person_runs_a_self_test_and_gets_its_judged_record(tmp_path: Path) -> None:
    async with proof_bridge(tmp_path / "data") as api:
        status, body = await api.post("/self-tests", {"device_id": "arcm", "who": "landlord"})
        assert status == 200, body
        record = body["self_test"]
        assert record["result"] == "pass" and record["trigger"] == "manual"
        assert record["time_limit_s"] == LIMIT_S
        assert 0 <= record["seconds_to_alarm"] <= LIMIT_S
        assert record["channel"] and record["who"].startswith("landlord (")
        # Recorded, and the same record comes back from the list.
        status, listed = await api.get("/self-tests", params={"device_id": "arcm"})
        assert status == 200 and listed["self_tests"] == [record]
        # The event a person's test always gave, now carrying the record.
        (event,) = events(api, EventType.SELF_TEST, "arcm")
        assert event["id"] == record["id"] and event["result"] == "pass"

        # An unverified profile is never written to; a device without the command neither.
        status, refused = await api.post("/self-tests", {"device_id": "unverified"})
        assert status == 409 and refused["reason"] == "profile_unverified"
        status, refused = await api.post("/self-tests", {"device_id": "asj"})
        assert status == 409 and refused["reason"] == "command_unsupported"
        status, _ = await api.post("/self-tests", {"device_id": "nope"})
        assert status == 404
        status, bad = await api.post("/self-tests", {"who": "x"})
        assert status == 400 and bad["parameter"] == "device_id"
        status, bad = await api.get("/self-tests", params={"since": "yesterday"})
        assert status == 400 and bad["parameter"] == "since"

        # The schedule: monthly at 10:00, the next due 30 days after that test.
        status, schedule = await api.get("/self-tests/schedule")
        assert status == 200
        by_device = {e["device_id"]: e for e in schedule["schedule"]}
        assert by_device["arcm"]["enabled"] and by_device["arcm"]["every_days"] == 30.0
        assert by_device["arcm"]["at"] == "10:00"
        assert by_device["arcm"]["last"]["id"] == record["id"]
        assert by_device["arcm"]["next_due"] > record["at"] + 29 * 86400
        assert by_device["unverified"]["reason"] == "unverified_profile"
        assert by_device["asj"]["reason"] == "no_self_test_command"
        assert by_device["asj"]["next_due"] is None


async def test_no_response_when_the_device_is_silent(tmp_path: Path) -> None:
    async with proof_bridge(tmp_path / "data") as api:
        api.sim.unit(1).online = False
        status, body = await api.post("/self-tests", {"device_id": "arcm"})
        assert status == 200, body
        assert body["self_test"]["result"] == "no_response"
        assert body["self_test"]["seconds_to_alarm"] is None


async def test_the_schedule_runs_a_due_test_and_a_missed_one_once_the_device_is_back(
    tmp_path: Path,
) -> None:
    async with proof_bridge(tmp_path / "data") as api:
        scheduler = api.bridge.proof.scheduler  # type: ignore[union-attr]
        # Due now (as at 10:00 on the day): run by the bridge, no client involved.
        due = time.time() - 1
        scheduler._devices["arcm"].next_due = due
        scheduler.wake()
        await wait_for(lambda: events(api, EventType.SELF_TEST_RESULT, "arcm"), what="a result")
        (result,) = events(api, EventType.SELF_TEST_RESULT, "arcm")
        assert result["result"] == "pass" and result["trigger"] == "scheduled"
        assert result["due_at"] == due and result["who"] == "bridge (schedule)"
        # Never for the unverified profile, whatever its due time.
        assert events(api, EventType.SELF_TEST_RESULT, "unverified") == []

        # Offline at the due time: missed at once, then run as soon as it answers again.
        # The test's alarm latches on this detector: a person resets it, as after any test
        # (a test cannot be judged while an alarm already shows, so the next one waits).
        bus = api.bridge.buses["line"]
        unit = bus.units["arcm"]
        await bus.command("arcm", "reset", who="landlord")
        await wait_for(lambda: not bus.alarm_active("arcm"), what="the test alarm reset")
        api.sim.unit(1).online = False
        await wait_for(lambda: unit.online is False, what="arcm offline")
        due = time.time() - 1
        scheduler._devices["arcm"].next_due = due
        scheduler.wake()
        await wait_for(lambda: events(api, EventType.SELF_TEST_MISSED, "arcm"), what="missed")
        (missed,) = events(api, EventType.SELF_TEST_MISSED, "arcm")
        assert missed["result"] == "missed" and missed["due_at"] == due
        assert missed["message"] == "the device is offline"
        _status, schedule = await api.get("/self-tests/schedule")
        entry = next(e for e in schedule["schedule"] if e["device_id"] == "arcm")
        assert entry["pending"] is True and entry["last"]["result"] == "missed"
        api.sim.unit(1).online = True
        await wait_for(
            lambda: len(events(api, EventType.SELF_TEST_RESULT, "arcm")) == 2, what="catch-up"
        )
        late = events(api, EventType.SELF_TEST_RESULT, "arcm")[-1]
        assert late["due_at"] == due and late["result"] in ("pass", "fail")
        _, listed = await api.get("/self-tests", params={"device_id": "arcm"})
        assert [r["result"] for r in listed["self_tests"]][1:] == ["missed", "pass"]


async def test_inspections_are_checked_recorded_and_fall_due(tmp_path: Path) -> None:
    tracked = (InspectionKind.CN_ROUTINE_PATROL, InspectionKind.JP_OVERALL_CHECK)
    async with proof_bridge(
        tmp_path / "data", inspections=tracked, inspection_every_days={tracked[0]: 7.0}
    ) as api:
        # Never recorded: overdue at once, said once.
        status, due = await api.get("/inspections/due")
        assert status == 200
        assert [(d["kind"], d["every_days"], d["overdue"]) for d in due["due"]] == [
            ("cn_routine_patrol", 7.0, True),
            ("jp_overall_check", 365.0, True),
        ]
        await wait_for(
            lambda: len(api.bridge.store._store.query(types=[EventType.INSPECTION_OVERDUE])) == 2
        )
        status, bad = await api.post(
            "/inspections",
            {"kind": "cn_routine_patrol", "items": [{"id": "cn_pt_setpoints", "outcome": "bad"}]},
        )
        assert status == 400 and bad["parameter"] == "items[0].outcome"
        assert bad["value"] == "'bad'" and "'items[0].outcome'" in bad["message"]
        patrol = checklist(InspectionKind.CN_ROUTINE_PATROL)
        assert patrol is not None
        items = [{"id": i.id, "outcome": "ok"} for i in patrol.items]
        items[1] = {"id": items[1]["id"], "outcome": "not_ok", "note": "unit 3 silent"}
        status, body = await api.post(
            "/inspections", {"kind": "cn_routine_patrol", "items": items, "who": "Li Wei"}
        )
        assert status == 200, body
        record = body["inspection"]
        assert (
            record["who"].startswith("Li Wei (") and record["items"][1]["note"] == "unit 3 silent"
        )
        status, listed = await api.get("/inspections", params={"kind": "cn_routine_patrol"})
        assert listed["inspections"] == [record]
        assert [c["kind"] for c in listed["checklists"]] == [
            "jp_equipment_check",
            "jp_overall_check",
            "cn_routine_patrol",
            "jp_installation",
        ]
        status, due = await api.get("/inspections/due")
        patrol_due = due["due"][0]
        assert not patrol_due["overdue"] and patrol_due["due_at"] == record["at"] + 7 * 86400
        (event,) = events_of(api, EventType.INSPECTION_RECORDED)
        assert event["id"] == record["id"]
        status, bad = await api.get("/inspections", params={"kind": "weekly"})
        assert status == 400 and bad["parameter"] == "kind"


def events_of(running: Running, event_type: EventType) -> list[dict[str, Any]]:
    return [e.data for e in running.bridge.store._store.query(types=[event_type])]


async def test_records_survive_a_restart_and_retention(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with proof_bridge(data) as api:
        _, body = await api.post("/self-tests", {"device_id": "arcm"})
        first = body["self_test"]
        # Events older than the retention go; the records stay (they are the proof).
        await api.bridge.store.prune(time.time() + 3651 * 86400)
        assert api.bridge.store._store.query(types=[EventType.SELF_TEST]) == []
    async with proof_bridge(data) as api:
        _status, listed = await api.get("/self-tests")
        assert listed["self_tests"][-1] == first
        _, schedule = await api.get("/self-tests/schedule")
        entry = next(e for e in schedule["schedule"] if e["device_id"] == "arcm")
        assert entry["last"]["id"] == first["id"]


def test_a_version_2_store_gets_the_proof_tables_with_its_old_self_tests(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite3"
    with EventStore(path) as store:
        old = store.append(
            BridgeEvent(
                EventType.SELF_TEST,
                100.0,
                device_id="arcm",
                channel="residual_current",
                data={"result": "pass", "seconds": 4.0, "window_s": 30.0},
            )
        )
        store.append(
            BridgeEvent(
                EventType.SELF_TEST,
                200.0,
                device_id="asj",
                data={"result": "fail", "seconds": None, "window_s": 30.0},
            )
        )
    # As a version 2 bridge left it: no proof tables.
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE self_tests")
    conn.execute("DROP TABLE inspections")
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    with EventStore(path) as store:
        assert store.pragmas()["user_version"] == 3
        records = store.self_tests()
        assert [(r.device_id, r.result, r.seconds_to_alarm) for r in records] == [
            ("asj", "fail", None),
            ("arcm", "pass", 4.0),
        ]
        assert records[1].id == old.id and records[1].started_at == 96.0
        assert len(store.query()) == 2  # every event kept
