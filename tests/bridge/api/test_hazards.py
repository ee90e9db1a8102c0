"""The workflow from alarm to resolution, and the maintenance lock-out, on a running bridge."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from electrical_safety_bridge.api.openapi import WEBSOCKET_MESSAGES
from electrical_safety_bridge.common.enums import EventType
from electrical_safety_bridge.common.errors import (
    CommandRefused,
    UnknownHazard,
    error_from_answer,
)
from electrical_safety_bridge.common.workflow import Hazard, HazardStatistics, Lockout

from ..conftest import wait_for
from .conftest import Running, running_bridge
from .test_api_schemas import check

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def raise_alarm(api: Running) -> dict[str, Any]:
    """An alarm on the ASJ detector; its hazard."""
    api.sim.unit(2).set("alarm_status", "alarm")
    await wait_for(lambda: bool(api.bridge.hazards.hazards(device_id="asj")), what="a hazard")
    (hazard,) = api.bridge.hazard_list(device_id="asj")
    return hazard


async def event_types(api: Running) -> list[str]:
    await api.bridge._wait_written(api.bridge._enqueued)
    return [e.type.value for e in await api.bridge.store.query(device_id="asj", limit=1000)]


async def test_alarm_to_resolution_over_rest_and_websocket(api: Running) -> None:
    async with api.session.ws_connect(api.url + "/ws", headers=api.auth) as socket:
        snapshot = await socket.receive_json(timeout=10)
        assert snapshot["hazards"] == [] and snapshot["statistics"]["open_hazards"] == 0
        hazard = await raise_alarm(api)
        while True:  # the hazard message, held to its documented schema
            message = await socket.receive_json(timeout=10)
            if message["type"] == "hazard":
                break
        check(WEBSOCKET_MESSAGES["hazard"]["schema"], message)
        assert message["hazard"]["id"] == hazard["id"]
        assert HazardStatistics.from_dict(message["statistics"]).open_hazards == 1
    (alarm,) = api.bridge.alarms.open_alarms("asj")
    assert (hazard["alarm_id"], hazard["state"], hazard["active"]) == (alarm.id, "open", True)
    assert Hazard.from_dict(hazard).to_dict() == hazard

    status, listed = await api.get("/hazards")
    assert status == 200 and [h["id"] for h in listed["hazards"]] == [hazard["id"]]
    status, stats = await api.get("/statistics")
    assert status == 200 and (stats["open_hazards"], stats["unacknowledged_alarms"]) == (1, 1)

    # Acknowledging the alarm acknowledges its hazard: one state, whichever path.
    status, _ = await api.post(f"/alarms/{alarm.id}/acknowledge", {"who": "landlord"})
    assert status == 200
    status, acknowledged = await api.get(f"/hazards/{hazard['id']}")
    assert status == 200 and acknowledged["state"] == "acknowledged"
    assert acknowledged["acknowledged"]["who"] == "landlord (127.0.0.1)"
    assert acknowledged["acknowledged"]["source"] == "api"

    # Eliminating needs a note, and the condition gone on a fresh read.
    path = f"/hazards/{hazard['id']}/eliminate"
    status, bad = await api.post(path, {"who": "electrician"})
    assert status == 400 and bad["parameter"] == "note", bad
    status, bad = await api.post(path, {"who": "electrician", "note": "   "})
    assert status == 400 and bad["parameter"] == "note", bad
    status, refused = await api.post(path, {"who": "electrician", "note": "replaced a cable"})
    assert status == 409 and refused["reason"] == "condition_persists", refused
    error = error_from_answer(status, refused)
    assert isinstance(error, CommandRefused) and error.reason == "condition_persists"
    api.sim.unit(2).set("alarm_status", "normal")
    status, answer = await api.post(path, {"who": "electrician", "note": "replaced a cable"})
    assert status == 200, answer
    eliminated = answer["hazard"]
    assert (eliminated["state"], eliminated["note"], eliminated["active"]) == (
        "eliminated",
        "replaced a cable",
        False,
    )
    assert eliminated["eliminated"]["who"] == "electrician (127.0.0.1)"
    assert not api.bridge.alarms.open_alarms("asj"), "the alarm cleared"

    status, listed = await api.get("/hazards")
    assert listed == {"hazards": []}
    status, listed = await api.get("/hazards", params={"state": "eliminated"})
    assert [h["id"] for h in listed["hazards"]] == [hazard["id"]]
    status, listed = await api.get("/hazards", params={"device_id": "arcm", "state": "eliminated"})
    assert listed == {"hazards": []}
    status, bad = await api.get("/hazards", params={"state": "closed"})
    assert status == 400 and bad["parameter"] == "state" and bad["value"] == "closed"
    status, stats = await api.get("/statistics")
    assert (stats["open_hazards"], stats["eliminated_this_month"]) == (0, 1)
    assert stats["mean_time_to_eliminate_s"] is not None
    types = await event_types(api)
    for step in ("hazard_opened", "hazard_acknowledged", "hazard_eliminated"):
        assert types.count(step) == 1, types
    assert types.index("alarm_acknowledged") < types.index("hazard_acknowledged")

    status, unknown = await api.get("/hazards/nope")
    assert status == 404 and unknown["error"] == "unknown_hazard"
    assert isinstance(error_from_answer(status, unknown), UnknownHazard)
    status, unknown = await api.post("/hazards/nope/acknowledge", {"who": "x"})
    assert status == 404 and unknown["error"] == "unknown_hazard"


async def test_eliminating_an_open_hazard_acknowledges_it_and_its_alarm(api: Running) -> None:
    hazard = await raise_alarm(api)
    api.sim.unit(2).set("alarm_status", "normal")
    await wait_for(lambda: not api.bridge.hazard(hazard["id"])["active"], what="inactive")
    status, answer = await api.post(
        f"/hazards/{hazard['id']}/eliminate", {"who": "electrician", "note": "loose neutral"}
    )
    assert status == 200, answer
    done = answer["hazard"]
    assert done["acknowledged"] == done["eliminated"], "one step, one actor"
    assert not api.bridge.alarms.open_alarms("asj"), "acknowledged, so cleared"
    types = await event_types(api)
    assert types.count("alarm_acknowledged") == 1
    assert types.index("hazard_acknowledged") < types.index("hazard_eliminated")


async def test_acknowledging_a_hazard_acknowledges_its_alarm(api: Running) -> None:
    hazard = await raise_alarm(api)
    status, answer = await api.post(f"/hazards/{hazard['id']}/acknowledge", {"who": "Alice"})
    assert status == 200 and answer["hazard"]["state"] == "acknowledged"
    (alarm,) = api.bridge.alarms.open_alarms("asj")
    assert alarm.acknowledged_by == "Alice (127.0.0.1)"
    # Again: nothing changes, nothing new is recorded.
    status, again = await api.post(f"/hazards/{hazard['id']}/acknowledge", {"who": "Bob"})
    assert status == 200 and again["hazard"] == answer["hazard"]
    assert (await event_types(api)).count("hazard_acknowledged") == 1


async def test_eliminating_needs_the_device_to_answer(api: Running) -> None:
    hazard = await raise_alarm(api)
    api.sim.unit(2).set("alarm_status", "normal")
    api.sim.unit(2).online = False
    status, refused = await api.post(
        f"/hazards/{hazard['id']}/eliminate", {"who": "electrician", "note": "fixed"}
    )
    assert status == 409 and refused["reason"] == "device_offline", refused
    assert api.bridge.hazard(hazard["id"])["state"] == "open"


async def test_hazards_and_lock_outs_survive_a_restart(tmp_path: Path) -> None:
    async with running_bridge(tmp_path) as api:
        units = api.bridge.buses["line"].units
        await wait_for(lambda: all(u.online for u in units.values()), what="online")
        hazard = await raise_alarm(api)
        status, _ = await api.post("/devices/arcm/lockout", {"who": "electrician", "why": "work"})
        assert status == 200
    async with running_bridge(tmp_path) as api:
        # Read before the restart, the condition is unknown until the device answers
        # again: never the stored "still there" (the new simulator has no alarm).
        assert api.bridge.hazard(hazard["id"])["active"] is not True
        await wait_for(lambda: api.bridge.hazard(hazard["id"])["active"] is False, what="read")
        assert api.bridge.hazard(hazard["id"])["state"] == "open"
        assert [h["id"] for h in api.bridge.hazard_list()] == [hazard["id"]]
        assert api.bridge.device("arcm")["lockout"]["why"] == "work"
        status, refused = await api.post("/devices/arcm/commands", {"command": "close"})
        assert status == 409 and refused["reason"] == "locked_out"


async def test_a_lock_out_refuses_close_until_lifted(api: Running) -> None:
    path = "/devices/arcm/lockout"
    status, bad = await api.post(path, {"who": "electrician", "why": ""})
    assert status == 400 and bad["parameter"] == "why"
    status, bad = await api.post(path, {"who": "electrician", "why": "x", "until": 1.0})
    assert status == 400 and bad["parameter"] == "until"
    status, bad = await api.post(path, {"who": "electrician", "why": "x", "until": "soon"})
    assert status == 400 and bad["parameter"] == "until"
    status, missing = await api.post("/devices/nope/lockout", {"who": "e", "why": "x"})
    assert status == 404 and missing["error"] == "unknown_device"

    async with api.session.ws_connect(api.url + "/ws", headers=api.auth) as socket:
        await socket.receive_json(timeout=10)
        status, answer = await api.post(path, {"who": "electrician", "why": "new socket"})
        assert status == 200, answer
        lockout = Lockout.from_dict(answer["lockout"])
        assert (lockout.who, lockout.source, lockout.why) == (
            "electrician (127.0.0.1)",
            "api",
            "new socket",
        )
        while True:
            message = await socket.receive_json(timeout=10)
            device = message.get("device") or {}
            if device.get("id") == "arcm" and device.get("lockout") is not None:
                break
    status, refused = await api.post("/devices/arcm/commands", {"command": "close", "who": "t"})
    assert status == 409 and refused["reason"] == "locked_out", refused
    status, tripped = await api.post("/devices/arcm/commands", {"command": "trip", "who": "t"})
    assert status == 200 and tripped["outcome"] == "confirmed"
    status, lifted = await api.post(f"{path}/lift", {"who": "electrician"})
    assert status == 200 and lifted["lockout"] is None and lifted["lifted"]["why"] == "new socket"
    status, lifted = await api.post(f"{path}/lift", {"who": "electrician"})
    assert status == 200 and lifted == {"lockout": None, "lifted": None}
    assert api.bridge.device("arcm")["lockout"] is None
    status, closed = await api.post("/devices/arcm/commands", {"command": "close", "who": "t"})
    assert status == 200 and closed["outcome"] == "confirmed", closed
    await api.bridge._wait_written(api.bridge._enqueued)
    types = [e.type for e in await api.bridge.store.query(device_id="arcm", limit=1000)]
    assert types.count(EventType.LOCKOUT_SET) == 1 and types.count(EventType.LOCKOUT_LIFTED) == 1


async def test_a_lock_out_ends_by_itself_when_its_time_is_up(api: Running) -> None:
    until = time.time() + 0.5
    status, answer = await api.post(
        "/devices/arcm/lockout", {"who": "electrician", "why": "lunch", "until": until}
    )
    assert status == 200 and answer["lockout"]["until"] == until

    async def lifted() -> bool:
        events = await api.bridge.store.query(types=[EventType.LOCKOUT_LIFTED])
        return bool(events)

    await wait_for(lifted, what="the lock-out lifted by the bridge")
    (event,) = await api.bridge.store.query(types=[EventType.LOCKOUT_LIFTED])
    assert event.data["lifted"]["who"] == "bridge" and event.data["expired"] is True
    assert api.bridge.device("arcm")["lockout"] is None


async def test_retention_forgets_eliminated_hazards(api: Running) -> None:
    hazard = await raise_alarm(api)
    api.sim.unit(2).set("alarm_status", "normal")
    status, _ = await api.post(
        f"/hazards/{hazard['id']}/eliminate", {"who": "electrician", "note": "loose neutral"}
    )
    assert status == 200
    await api.bridge._wait_written(api.bridge._enqueued)
    retention_s = api.bridge.config.retention_days * 86400
    # Within the retention: kept.
    await api.bridge.prune(time.time())
    status, listed = await api.get("/hazards", params={"state": "eliminated"})
    assert [h["id"] for h in listed["hazards"]] == [hazard["id"]]
    # Past it: forgotten by the bridge and by the store.
    await api.bridge.prune(time.time() + retention_s + 60)
    status, listed = await api.get("/hazards", params={"state": "eliminated"})
    assert listed == {"hazards": []}
    status, unknown = await api.get(f"/hazards/{hazard['id']}")
    assert status == 404 and unknown["error"] == "unknown_hazard"
    assert await api.bridge.store.hazards() == []
