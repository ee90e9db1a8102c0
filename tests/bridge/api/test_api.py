"""API v1 against a running bridge on 127.0.0.1, its devices simulated over Modbus TCP."""

from __future__ import annotations

import asyncio
import csv
import functools
import io
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from electrical_safety_bridge.api.auth import token_matches
from electrical_safety_bridge.api.http import WS_QUEUE_LIMIT, broadcast
from electrical_safety_bridge.api.openapi import OPENAPI

from ..conftest import wait_for
from .conftest import Running, running_bridge

pytestmark = pytest.mark.usefixtures("socket_enabled")

# --------------------------------------------------------------------------- auth


ROUTES = [
    ("GET", "/info"),
    ("GET", "/devices"),
    ("GET", "/devices/arcm"),
    ("POST", "/devices/arcm/commands"),
    ("GET", "/alarms"),
    ("POST", "/alarms/x/acknowledge"),
    ("GET", "/events"),
    ("GET", "/events.csv"),
    ("GET", "/ws"),
]


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic abc", "Bearer "])
async def test_every_route_but_health_needs_the_token(api: Running, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    for method, path in ROUTES:
        async with api.session.request(method, api.url + path, headers=headers) as response:
            assert response.status == 401, (method, path)
            body = await response.json()
            assert body == {"error": "unauthorized", "message": "a valid bearer token is required"}
            assert api.bridge.token not in json.dumps(body)
    async with api.session.get(api.url + "/health") as response:
        assert response.status == 200
    async with api.session.get(api.url + "/openapi.json") as response:
        assert (await response.json())["openapi"] == "3.1.0"


def test_token_comparison_is_exact() -> None:
    assert token_matches("abc", "abc")
    assert not token_matches("abc", "abd")
    assert not token_matches("abc", "ab")
    assert not token_matches("abc", None)


# --------------------------------------------------------------------------- devices


async def test_devices_describe_themselves(api: Running) -> None:
    arcm_unit = api.bridge.buses["line"].units["arcm"]
    await wait_for(lambda: "residual_current" in arcm_unit.readings)
    status, body = await api.get("/devices")
    assert status == 200
    devices = {d["id"]: d for d in body["devices"]}
    assert set(devices) == {"arcm", "asj", "unverified"}
    arcm = devices["arcm"]
    assert arcm["model"] == "SIM-ARCM" and arcm["simulated"] and arcm["verified"]
    assert arcm["online"] is True
    channels = {c["key"]: c for c in arcm["channels"]}
    assert channels["residual_current"]["unit"] == "mA"
    assert channels["residual_current"]["device_class"] == "current"
    assert channels["residual_current"]["has_alarm"]
    assert channels["temperature_1"]["device_class"] == "temperature"
    assert channels["energy"]["state_class"] == "total_increasing"
    assert channels["breaker"]["states"] == ["closed", "open"]
    setpoints = {s["key"]: s for s in arcm["setpoints"]}
    assert setpoints["residual_current_alarm_setpoint"]["min"] == 20
    assert setpoints["residual_current_alarm_setpoint"]["writable"] is True
    assert "trip" in arcm["commands"] and "close" in arcm["commands"]
    assert arcm["values"]["residual_current"] == api.sim.unit(1).get("residual_current").value
    unverified = devices["unverified"]
    assert unverified["commands"] == []
    assert not any(s["writable"] for s in unverified["setpoints"])
    status, one = await api.get("/devices/asj")
    assert status == 200 and one["model"] == "ASJ"
    status, missing = await api.get("/devices/nope")
    assert status == 404 and missing["error"] == "unknown_device"


async def test_info_names_the_bridge_and_its_buses(api: Running) -> None:
    status, info = await api.get("/info")
    assert status == 200
    assert info["bridge_id"] == api.bridge.bridge_id and len(info["bridge_id"]) == 32
    assert info["api_version"] == 1
    (bus,) = info["buses"]
    assert bus["id"] == "line" and bus["up"] is True
    assert bus["devices"] == ["arcm", "asj", "unverified"]


# --------------------------------------------------------------------------- commands


async def test_close_during_an_alarm_is_a_409_with_a_reason(api: Running) -> None:
    api.sim.unit(1).set("residual_current", 480)
    await wait_for(lambda: bool(api.bridge.alarms.open_alarms("arcm")))
    status, body = await api.post("/devices/arcm/commands", {"command": "close", "who": "tenant"})
    assert status == 409
    assert body["error"] == "refused"
    assert body["reason"] == "alarm_active"
    assert "residual_current" in body["message"]
    status, body = await api.post("/devices/arcm/commands", {"command": "trip", "who": "tenant"})
    assert status == 200 and body["outcome"] == "confirmed" and body["state"] == "open"


async def test_acknowledge_records_who_and_is_stored(api: Running) -> None:
    api.sim.unit(2).set("alarm_status", "alarm")
    await wait_for(lambda: bool(api.bridge.alarms.open_alarms("asj")))
    status, alarms = await api.get("/alarms")
    (alarm,) = [a for a in alarms["alarms"] if a["device_id"] == "asj"]
    status, body = await api.post(f"/alarms/{alarm['id']}/acknowledge", {"who": "landlord"})
    assert status == 200
    assert body["events"][0]["type"] == "alarm_acknowledged"
    # The answer came after the acknowledgement was stored.
    status, events = await api.get("/events", params={"type": "alarm_acknowledged"})
    (stored,) = events["events"]
    assert stored["data"]["acknowledged_by"].startswith("landlord")
    status, again = await api.post(f"/alarms/{alarm['id']}/acknowledge", {"who": "x"})
    assert status == 200 and again["events"] == []
    status, missing = await api.post("/alarms/nope/acknowledge", {"who": "x"})
    assert status == 404 and missing["error"] == "unknown_alarm"


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({}, 400, "bad_request"),
        ({"command": 5}, 400, "bad_request"),
        ({"command": "trip", "setpoint": "x", "value": 1}, 400, "bad_request"),
        ({"setpoint": "residual_current_alarm_setpoint", "value": "high"}, 400, "bad_request"),
        ({"setpoint": "residual_current_alarm_setpoint", "value": True}, 400, "bad_request"),
        ({"command": "trip", "who": ""}, 400, "bad_request"),
        ({"command": "explode"}, 409, "refused"),
        ({"setpoint": "residual_current_alarm_setpoint", "value": 5000}, 409, "refused"),
        ([1, 2], 400, "bad_request"),
    ],
)
async def test_bad_commands_get_a_clear_4xx(
    api: Running, body: Any, status: int, error: str
) -> None:
    got, answer = await api.post("/devices/arcm/commands", body)
    assert (got, answer["error"]) == (status, error), answer
    assert answer.get("message")


async def test_unverified_device_refuses_every_write_over_the_api(api: Running) -> None:
    got, answer = await api.post("/devices/unverified/commands", {"command": "trip"})
    assert got == 409 and answer["reason"] == "profile_unverified"
    assert api.sim.unit(3).command_log == []


async def test_setpoint_write_over_the_api_is_read_back(api: Running) -> None:
    got, answer = await api.post(
        "/devices/asj/commands", {"setpoint": "prewarning_current", "value": 150, "who": "owner"}
    )
    assert got == 200 and answer["outcome"] == "confirmed" and answer["state"] == 150


async def test_garbled_json_body_is_a_400(api: Running) -> None:
    async with api.session.post(
        api.url + "/devices/arcm/commands",
        headers={**api.auth, "Content-Type": "application/json"},
        data=b"{not json",
    ) as response:
        assert response.status == 400
        assert (await response.json())["error"] == "bad_request"


# --------------------------------------------------------------------------- events


async def test_events_page_filter_and_export(api: Running) -> None:
    readings = api.bridge.buses["line"].units["asj"].readings
    for state in ("alarm", "normal", "alarm"):
        api.sim.unit(2).set("alarm_status", state)
        await wait_for(functools.partial(lambda s: readings["alarm_status"].value == s, state))
    await wait_for(lambda: api.bridge.last_seq >= 5)
    status, first = await api.get("/events", params={"limit": "2"})
    assert status == 200 and len(first["events"]) == 2
    status, rest = await api.get("/events", params={"after": str(first["next_after"])})
    seqs = [e["seq"] for e in first["events"] + rest["events"]]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    status, online = await api.get("/events", params={"type": "device_online"})
    assert {e["device_id"] for e in online["events"]} == {"arcm", "asj", "unverified"}
    status, asj = await api.get("/events", params={"device_id": "asj"})
    assert {e["device_id"] for e in asj["events"]} == {"asj"}
    for params in ({"limit": "0"}, {"limit": "5000"}, {"type": "nope"}, {"since": "yesterday"}):
        status, bad = await api.get("/events", params=params)
        assert status == 400 and bad["error"] == "bad_request", params
    async with api.session.get(
        api.url + "/events.csv", headers=api.auth, params={"device_id": "asj"}
    ) as response:
        assert response.status == 200
        rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert rows and {r["device_id"] for r in rows} == {"asj"}


# --------------------------------------------------------------------------- websocket


async def test_websocket_pushes_an_injected_alarm(api: Running) -> None:
    async with api.session.ws_connect(api.url + "/ws", headers=api.auth) as socket:
        snapshot = await socket.receive_json(timeout=5)
        assert snapshot["type"] == "snapshot"
        assert {d["id"] for d in snapshot["devices"]} == {"arcm", "asj", "unverified"}
        api.sim.unit(2).set("residual_current", 333)
        api.sim.unit(2).set("alarm_status", "alarm")
        raised = None
        while raised is None:
            message = await socket.receive_json(timeout=5)
            if message["type"] == "event" and message["event"]["type"] == "alarm_raised":
                raised = message["event"]
        assert raised["device_id"] == "asj"
        assert raised["channel"] == "residual_current"
        assert raised["data"]["value_at_alarm"] == 333
        assert raised["seq"] > snapshot["last_seq"]


async def test_a_client_that_stops_reading_is_dropped_and_polling_goes_on(api: Running) -> None:
    async with api.session.ws_connect(api.url + "/ws", headers=api.auth) as slow:
        await slow.receive_json(timeout=5)
        app = api.bridge._app
        assert app is not None
        # Offer more than the queue holds within one turn of the loop, so the client cannot
        # have drained any of it: the queue overflows and the client is dropped.
        for number in range(WS_QUEUE_LIMIT + 10):
            broadcast(app, {"type": "filler", "n": number})
        closed = None
        while closed is None:
            message = await slow.receive(timeout=5)
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                closed = message
        assert slow.close_code == 1013
    transactions = api.bridge.buses["line"].stats.transactions
    await wait_for(lambda: api.bridge.buses["line"].stats.transactions > transactions + 5)


# --------------------------------------------------------------------------- fuzzing


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, spec)
        for path, methods in OPENAPI["paths"].items()
        for method, spec in methods.items()
    ]


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)
_command_bodies = st.fixed_dictionaries(
    {},
    optional={
        "command": st.sampled_from(["reset", "mute", "self_test", "trip", "close", "x"])
        | _json_values,
        "setpoint": st.sampled_from(["residual_current_alarm_setpoint", "nope"]) | _json_values,
        "value": st.floats() | st.integers() | _json_values,
        "who": st.text(max_size=300) | _json_values,
    },
)


async def test_api_answers_fuzzed_requests_without_a_5xx(tmp_path: Path) -> None:
    operations = _operations()
    async with running_bridge(tmp_path) as api:
        failures: list[tuple[str, str, int]] = []

        @settings(
            max_examples=150,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
        @given(
            operation=st.sampled_from(operations),
            path_value=st.sampled_from(["arcm", "asj", "nope", "%00", "a" * 300])
            | st.text(alphabet=st.characters(codec="ascii", exclude_characters="/?#"), max_size=30),
            query=st.dictionaries(
                st.sampled_from(["limit", "after", "since", "until", "type", "device_id", "x"]),
                st.text(max_size=12) | st.integers().map(str) | st.floats().map(str),
                max_size=4,
            ),
            body=_command_bodies | _json_values,
        )
        def probe(
            operation: tuple[str, str, dict[str, Any]],
            path_value: str,
            query: dict[str, str],
            body: Any,
        ) -> None:
            method, template, _spec = operation
            path = template.replace("{device_id}", path_value).replace("{alarm_id}", path_value)

            async def send() -> int:
                async with api.session.request(
                    method,
                    f"http://127.0.0.1:{api.bridge.api_port}{path}",
                    headers=api.auth,
                    params=query,
                    json=body if method == "POST" else None,
                ) as response:
                    await response.read()
                    return response.status

            status = asyncio.run_coroutine_threadsafe(send(), loop).result(timeout=30)
            if status >= 500:
                failures.append((method, path, status))

        loop = asyncio.get_running_loop()
        await asyncio.to_thread(probe)
        assert failures == []
        assert api.bridge.running
