"""API v1 fuzzed from its OpenAPI document (bench/fuzz_api.py): a bounded, seeded run against
a real bridge, and the bugs it found kept as regression tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench._fuzz import FuzzConfig
from bench.fuzz_api import fuzz
from electrical_safety_bridge.common.enums import EventType
from electrical_safety_bridge.safety.events import BridgeEvent
from electrical_safety_bridge.storage.event_store import EventStore, InvalidEvent

from ..conftest import wait_for
from .conftest import Running

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def test_fuzz_api_bounded_run() -> None:
    report = await fuzz(FuzzConfig(cases=400, seed=14))
    assert report.cases == 400
    assert report.findings == []
    for status in (200, 400, 401, 404):
        assert report.counts[f"status_{status}"] > 0, status


async def post_raw(api: Running, path: str, body: bytes) -> tuple[int, dict[str, str]]:
    headers = {**api.auth, "Content-Type": "application/json"}
    async with api.session.post(api.url + path, data=body, headers=headers) as response:
        return response.status, await response.json()


async def test_lone_surrogate_in_a_body_is_a_400_naming_the_key(api: Running) -> None:
    api.sim.unit(1).set("residual_current", 900)
    await wait_for(lambda: bool(api.bridge.alarms.open_alarms()), what="an alarm")
    alarm = api.bridge.alarms.open_alarms()[0].id
    cases = [
        (f"/alarms/{alarm}/acknowledge", {"who": "\ud800"}, "who"),
        ("/devices/arcm/lockout", {"who": "x", "why": "\ud800"}, "why"),
        ("/devices/arcm/commands", {"who": "x", "setpoint": "\udfff", "value": 1}, "setpoint"),
        ("/devices/arcm/commands", {"who": "x", "command": "mute", "\ud800": 1}, "\\ud800"),
    ]
    for path, body, key in cases:
        # json.dumps writes the surrogate as the escape a client would send.
        status, answer = await post_raw(api, path, json.dumps(body).encode())
        assert status == 400, (path, answer)
        assert answer["parameter"] == key
        assert "lone surrogate" in answer["message"]
    # Before the fix, the first request killed the event writer: nothing was stored after.
    status, _ = await post_raw(api, f"/alarms/{alarm}/acknowledge", b'{"who": "tester"}')
    assert status == 200

    async def acknowledgement_stored() -> bool:
        events = await api.bridge.store.query(types=[EventType.ALARM_ACKNOWLEDGED])
        return [e.data["acknowledged_by"] for e in events] == ["tester (127.0.0.1)"]

    await wait_for(acknowledgement_stored, what="the acknowledgement stored")


def test_the_store_refuses_an_event_with_a_lone_surrogate_as_malformed(tmp_path: Path) -> None:
    with EventStore(tmp_path / "events.sqlite3") as store:
        for event in (
            BridgeEvent(EventType.COMMAND, 1.0, device_id="d\ud800", data={}),
            BridgeEvent(EventType.COMMAND, 1.0, data={"who": "\ud800"}),
            BridgeEvent(EventType.COMMAND, 1.0, data={"\udfff": 1}),
        ):
            with pytest.raises(InvalidEvent, match="lone surrogate"):
                store.append(event)
        store.append(BridgeEvent(EventType.COMMAND, 2.0, data={"who": "fine"}))
        assert [e.data for e in store.query()] == [{"who": "fine"}]
