"""The wire contract, recorded from a running bridge: tests/fixtures/contract/*.json.

Like zwave-js-server-python's recorded payloads, the same files test the contract from both
sides. Here a real bridge (on a simulated bus) produces every kind of answer and WebSocket
message, and each live payload must have the SHAPE of its recorded file: the same keys,
recursively, and the same JSON types (a list compared by its first element); values such as
ids, timestamps and readings may differ. A field the bridge adds, removes or renames fails
this test until the files are recorded again. On the other side,
tests/integration/test_contract_fixtures.py parses exactly these files with the client's
models, in Home Assistant's environment.

Record them again after a deliberate change of the contract (``make contract-update``), and
review ``git diff``::

    UPDATE_CONTRACT_FIXTURES=1 .venv-bridge/bin/python -m pytest -q \\
        tests/bridge/api/test_contract_fixtures.py

Volatile values (the bridge id, timestamps, alarm and event ids, the simulator's port, the
measured line times, counters and free space) are written as fixed values, so that a new
recording differs only where the contract did.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from electrical_safety_bridge.common import enums
from electrical_safety_bridge.profiles import model
from electrical_safety_bridge.safety import events
from electrical_safety_bridge.storage import guard

from ..conftest import wait_for
from .conftest import ROOT, Running

pytestmark = pytest.mark.usefixtures("socket_enabled")

FIXTURES = ROOT / "tests" / "fixtures" / "contract"
UPDATE_VARIABLE = "UPDATE_CONTRACT_FIXTURES"
RECORD_COMMAND = (
    f"make contract-update (that is, {UPDATE_VARIABLE}=1 .venv-bridge/bin/python -m pytest -q"
    " tests/bridge/api/test_contract_fixtures.py)"
)

#: Every file this module records, and so every file tests/fixtures/contract may hold.
#: REST answers are recorded as their body; answers to a POST (a command, an
#: acknowledgement, a refusal) as ``{"status": <HTTP status>, "body": <body>}``; WebSocket
#: messages whole, with their ``type``.
NAMES = frozenset(
    {
        "info",
        "devices",
        "device",
        "alarms",
        "events",
        "health",
        "ws_snapshot",
        "ws_event_alarm_raised",
        "ws_device_state",
        "ws_status",
        "command_trip_confirmed",
        "acknowledge",
        "refusal_alarm_active",
        "refusal_profile_unverified",
        "refusal_unknown_device",
        "refusal_unknown_alarm",
        "hazards",
        "hazard_acknowledge",
        "hazard_eliminate",
        "statistics",
        "ws_hazard",
        "lockout",
        "refusal_locked_out",
        "refusal_condition_persists",
        "refusal_unknown_hazard",
        "site",
        "early_warnings",
    }
)

# Normalised values: what the recorded files say instead of this run's.
FIXED_BRIDGE_ID = "0123456789abcdef0123456789abcdef"
FIXED_TIME = 1700000000.0
FIXED_PORT = 50200
#: Keys whose number is a wall-clock time (seconds since the epoch).
TIME_KEYS = frozenset({"at", "raised_at", "acknowledged_at", "since", "opened_at", "until"})
#: The month of the statistics ("YYYY-MM" of the recording).
FIXED_MONTH = "2023-11"
#: Keys whose number the bridge measures (line time, counters, free space): written as 0.
MEASURED_KEYS = frozenset(
    {
        "alarm_round_s",
        "alarm_gap_max_s",
        "transactions",
        "timeouts",
        "exceptions",
        "wire_seconds",
        "free_bytes",
        "mean_time_to_acknowledge_s",
        "mean_time_to_eliminate_s",
    }
)


# --------------------------------------------------------------------------- shape


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"  # JSON has one number type: 5 and 5.0 are the same shape
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a JSON value: {value!r}")


def shape_differences(recorded: Any, live: Any, path: str = "$") -> list[str]:
    """Where ``live`` does not have the shape of ``recorded`` (empty when it does).

    Objects must have the same keys, recursively; every value the same JSON type; a list
    is compared by its first element, when both lists have one.
    """
    recorded_type, live_type = _json_type(recorded), _json_type(live)
    if recorded_type != live_type:
        return [f"{path}: recorded {recorded_type}, live {live_type} ({live!r:.80})"]
    if isinstance(recorded, dict):
        found = [
            f"{path}.{k}: missing from the live payload"
            for k in sorted(recorded.keys() - live.keys())
        ]
        found += [
            f"{path}.{k}: not in the recorded file" for k in sorted(live.keys() - recorded.keys())
        ]
        for key in sorted(recorded.keys() & live.keys()):
            found += shape_differences(recorded[key], live[key], f"{path}.{key}")
        return found
    if isinstance(recorded, list) and recorded and live:
        return shape_differences(recorded[0], live[0], f"{path}[0]")
    return []


# --------------------------------------------------------------------------- normalising


def normaliser(
    bridge_id: str,
    alarm_ids: list[str],
    event_ids: list[str],
    port: int,
    hazard_ids: list[str] = [],  # noqa: B006 - never mutated
) -> Callable[[Any], Any]:
    """A function writing a payload with this run's volatile values replaced by fixed ones."""
    replacements = [(bridge_id, FIXED_BRIDGE_ID), (f":{port}", f":{FIXED_PORT}")]
    replacements += [(h, f"hazard-{n}") for n, h in enumerate(hazard_ids, 1)]
    replacements += [(a, f"alarm-{n}") for n, a in enumerate(alarm_ids, 1)]
    replacements += [(e, f"event-{n}") for n, e in enumerate(event_ids, 1)]

    def text(value: str) -> str:
        for old, new in replacements:
            value = value.replace(old, new)
        return value

    def walk(value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            return {text(k): walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if key == "month" and isinstance(value, str):
            return FIXED_MONTH
        if isinstance(value, str):
            return text(value)
        if key in TIME_KEYS and _json_type(value) == "number":
            return FIXED_TIME
        if key in MEASURED_KEYS and _json_type(value) == "number":
            return type(value)(0)
        return value

    return walk


def dump(value: Any) -> str:
    """A fixture file's text: sorted keys, indent 2, a final newline."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- the bridge


async def _answer(api: Running, method: str, path: str, body: Any = None) -> dict[str, Any]:
    async with api.session.request(method, api.url + path, headers=api.auth, json=body) as response:
        return {"status": response.status, "body": await response.json()}


async def _receive_until(
    socket: aiohttp.ClientWebSocketResponse, wanted: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The first message ``wanted`` takes; every wait on the socket is bounded."""
    while True:
        message: dict[str, Any] = await socket.receive_json(timeout=10)
        if wanted(message):
            return message


async def produce(api: Running) -> dict[str, Any]:
    """Every recorded payload, live from the running bridge (volatile values as they are)."""
    bridge = api.bridge
    line = bridge.buses["line"]
    # Every value read, so that no reading is still null for want of a first poll.
    await wait_for(
        lambda: all(
            set(bridge.device(d)["values"]) and None not in bridge.device(d)["values"].values()
            for d in line.units
        ),
        what="every value read",
    )
    # And the line's alarm cycle measured (it needs two alarm reads of a unit), so that the
    # status has every field it can have.
    await wait_for(lambda: line.schedule().alarm_cycle_s is not None, what="alarm cycle measured")
    payloads: dict[str, Any] = {}
    async with api.session.ws_connect(api.url + "/ws", headers=api.auth) as socket:
        await _receive_until(socket, lambda m: m["type"] == "snapshot")
        # The bridge pushes its status on every change of it (a bus, the storage, the
        # load) and every 30 s: push it now, the way a change does, rather than wait.
        bridge._push_status()
        payloads["ws_status"] = await _receive_until(socket, lambda m: m["type"] == "status")
        api.sim.unit(1).set("residual_current", 480)
        payloads["ws_event_alarm_raised"] = await _receive_until(
            socket,
            lambda m: m["type"] == "event" and m["event"]["type"] == "alarm_raised",
        )
        payloads["ws_device_state"] = await _receive_until(
            socket,
            lambda m: (
                m["type"] == "device_state"
                and m["device"]["id"] == "arcm"
                and bool(m["device"]["open_alarms"])
            ),
        )
    # A second connection: a snapshot with the open alarm in it.
    async with api.session.ws_connect(api.url + "/ws", headers=api.auth) as socket:
        payloads["ws_snapshot"] = await _receive_until(socket, lambda m: m["type"] == "snapshot")
    for name, path in (
        ("info", "/info"),
        ("devices", "/devices"),
        ("device", "/devices/arcm"),
        ("alarms", "/alarms"),
        ("health", "/health"),
        ("site", "/site"),
        ("early_warnings", "/early-warnings"),
    ):
        answer = await _answer(api, "GET", path)
        assert answer["status"] == 200, (path, answer)
        payloads[name] = answer["body"]
    (alarm,) = payloads["alarms"]["alarms"]
    # The alarm's hazard, still open; the statistics with it.
    for name, path in (("hazards", "/hazards"), ("statistics", "/statistics")):
        answer = await _answer(api, "GET", path)
        assert answer["status"] == 200, (path, answer)
        payloads[name] = answer["body"]
    (hazard,) = payloads["hazards"]["hazards"]
    note = {"who": "electrician", "note": "a damp junction box; dried and resealed"}
    eliminate = f"/hazards/{hazard['id']}/eliminate"
    payloads["refusal_condition_persists"] = await _answer(api, "POST", eliminate, note)

    close = {"command": "close", "who": "tenant"}
    payloads["refusal_alarm_active"] = await _answer(api, "POST", "/devices/arcm/commands", close)
    trip = {"command": "trip", "who": "tenant"}
    payloads["command_trip_confirmed"] = await _answer(api, "POST", "/devices/arcm/commands", trip)
    payloads["refusal_profile_unverified"] = await _answer(
        api, "POST", "/devices/unverified/commands", trip
    )
    payloads["refusal_unknown_device"] = await _answer(api, "POST", "/devices/nope/commands", trip)
    payloads["acknowledge"] = await _answer(
        api, "POST", f"/alarms/{alarm['id']}/acknowledge", {"who": "landlord"}
    )
    payloads["refusal_unknown_alarm"] = await _answer(
        api, "POST", "/alarms/nope/acknowledge", {"who": "landlord"}
    )
    # The alarm's acknowledgement acknowledged the hazard: the hazard's own step answers
    # the same (a second acknowledgement changes nothing).
    payloads["hazard_acknowledge"] = await _answer(
        api, "POST", f"/hazards/{hazard['id']}/acknowledge", {"who": "landlord"}
    )
    payloads["refusal_unknown_hazard"] = await _answer(
        api, "POST", "/hazards/nope/acknowledge", {"who": "landlord"}
    )
    async with api.session.ws_connect(api.url + "/ws", headers=api.auth) as socket:
        await _receive_until(socket, lambda m: m["type"] == "snapshot")
        # The leak is gone and the detector reset: the hazard follows (a hazard message).
        api.sim.unit(1).set("residual_current", 20)
        await _answer(api, "POST", "/devices/arcm/commands", {"command": "reset", "who": "e"})
        payloads["ws_hazard"] = await _receive_until(
            socket, lambda m: m["type"] == "hazard" and not m["hazard"]["active"]
        )
    payloads["hazard_eliminate"] = await _answer(api, "POST", eliminate, note)
    lockout = {"who": "electrician", "why": "new circuit", "until": time.time() + 3600}
    payloads["lockout"] = await _answer(api, "POST", "/devices/arcm/lockout", lockout)
    # Replaced by one without an end, so that the refusal's message holds no time.
    del lockout["until"]
    await _answer(api, "POST", "/devices/arcm/lockout", lockout)
    payloads["refusal_locked_out"] = await _answer(api, "POST", "/devices/arcm/commands", close)
    events_answer = await _answer(api, "GET", "/events?device_id=arcm")
    payloads["events"] = events_answer["body"]

    # What each recording stands for: a wrong one must not be recorded.
    assert payloads["refusal_alarm_active"]["status"] == 409
    assert payloads["refusal_alarm_active"]["body"]["reason"] == "alarm_active"
    assert payloads["command_trip_confirmed"]["status"] == 200
    assert payloads["command_trip_confirmed"]["body"]["outcome"] == "confirmed"
    assert payloads["refusal_profile_unverified"]["status"] == 409
    assert payloads["refusal_profile_unverified"]["body"]["reason"] == "profile_unverified"
    assert payloads["refusal_unknown_device"]["status"] == 404
    assert payloads["refusal_unknown_device"]["body"]["error"] == "unknown_device"
    assert payloads["acknowledge"]["status"] == 200
    assert payloads["acknowledge"]["body"]["events"]
    assert payloads["refusal_unknown_alarm"]["status"] == 404
    assert payloads["refusal_unknown_alarm"]["body"]["error"] == "unknown_alarm"
    types = [e["type"] for e in payloads["events"]["events"]]
    assert {"alarm_raised", "command", "alarm_acknowledged"} <= set(types), types
    assert payloads["ws_snapshot"]["alarms"], "the snapshot shows the open alarm"
    assert payloads["ws_snapshot"]["hazards"], "the snapshot shows the open hazard"
    assert hazard["state"] == "open"
    assert payloads["refusal_condition_persists"]["status"] == 409
    assert payloads["refusal_condition_persists"]["body"]["reason"] == "condition_persists"
    assert payloads["hazard_acknowledge"]["status"] == 200
    assert payloads["hazard_acknowledge"]["body"]["hazard"]["state"] == "acknowledged"
    assert payloads["refusal_unknown_hazard"]["status"] == 404
    assert payloads["refusal_unknown_hazard"]["body"]["error"] == "unknown_hazard"
    assert payloads["hazard_eliminate"]["status"] == 200, payloads["hazard_eliminate"]
    assert payloads["hazard_eliminate"]["body"]["hazard"]["state"] == "eliminated"
    assert payloads["lockout"]["status"] == 200
    assert payloads["refusal_locked_out"]["status"] == 409
    assert payloads["refusal_locked_out"]["body"]["reason"] == "locked_out"
    assert set(payloads) == NAMES
    return payloads


def _port(api: Running) -> int:
    match = re.search(r":(\d+)", api.bridge.buses["line"].settings.line.describe())
    assert match is not None
    return int(match[1])


# --------------------------------------------------------------------------- the tests


async def test_the_live_contract_has_the_recorded_shape(api: Running) -> None:
    payloads = await produce(api)
    alarm_ids = [a["id"] for a in payloads["alarms"]["alarms"]]
    event_ids = [e["id"] for e in payloads["events"]["events"]]
    hazard_ids = [h["id"] for h in payloads["hazards"]["hazards"]]
    normalise = normaliser(api.bridge.bridge_id, alarm_ids, event_ids, _port(api), hazard_ids)
    if os.environ.get(UPDATE_VARIABLE):
        FIXTURES.mkdir(parents=True, exist_ok=True)
        for stale in FIXTURES.glob("*.json"):
            if stale.stem not in NAMES:
                stale.unlink()
        for name, payload in sorted(payloads.items()):
            (FIXTURES / f"{name}.json").write_text(dump(normalise(payload)), encoding="utf-8")
        return
    problems: list[str] = []
    for name, payload in sorted(payloads.items()):
        path = FIXTURES / f"{name}.json"
        if not path.exists():
            problems.append(f"{name}.json: not recorded")
            continue
        recorded = json.loads(path.read_text(encoding="utf-8"))
        problems += [f"{name}.json {p}" for p in shape_differences(recorded, payload)]
    assert not problems, (
        "the bridge's payloads no longer have the recorded shape of the contract:\n  "
        + "\n  ".join(problems)
        + "\nIf the change is deliberate, record the fixtures again and review the diff:\n  "
        + RECORD_COMMAND
        + "\n(tests/integration/test_contract_fixtures.py then checks that the client still"
        " parses them; a removed or redefined field also needs common/schema.py's"
        " SCHEMA_VERSION raised)"
    )


def test_every_fixture_file_is_recorded_here() -> None:
    """No stale file: each one in tests/fixtures/contract is a payload this module makes."""
    files = {p.name for p in FIXTURES.iterdir()}
    expected = {f"{name}.json" for name in NAMES}
    assert files == expected, (
        f"stale: {sorted(files - expected)}, missing: {sorted(expected - files)};"
        f" record them with {RECORD_COMMAND}"
    )


def test_recorded_files_are_normalised_and_stable() -> None:
    """Sorted keys, indent 2, and no volatile value left in them."""
    for name in sorted(NAMES):
        text = (FIXTURES / f"{name}.json").read_text(encoding="utf-8")
        assert text == dump(json.loads(text)), f"{name}.json is not written by dump()"


def test_shape_comparison() -> None:
    assert shape_differences({"a": [{"b": 1}]}, {"a": [{"b": 2.5}, {"c": 1}]}) == []
    assert shape_differences({"a": []}, {"a": [{"b": 1}]}) == []
    assert shape_differences({"a": 1}, {"a": 1, "b": 2}) == ["$.b: not in the recorded file"]
    assert shape_differences({"a": 1, "b": 2}, {"a": 1}) == ["$.b: missing from the live payload"]
    assert shape_differences({"a": [{"b": True}]}, {"a": [{"b": 1}]}) == [
        "$.a[0].b: recorded boolean, live number (1)"
    ]
    assert shape_differences({"a": None}, {"a": "x"}) == ["$.a: recorded null, live string ('x')"]


# --------------------------------------------------------------------------- the enums


@pytest.mark.parametrize(
    ("internal", "contract"),
    [
        (model.DeviceKind, enums.DeviceKind),
        (model.ChannelKind, enums.ChannelKind),
        (model.SetpointKind, enums.SetpointKind),
        (model.CommandName, enums.CommandName),
        (events.EventType, enums.EventType),
        (guard.StorageState, enums.StorageState),
    ],
)
def test_the_bridge_uses_the_contracts_enums(internal: Any, contract: Any) -> None:
    """The profile model, the event log and the storage guard use common/enums.py's classes
    themselves (defined once), not copies that could drift from what clients import."""
    assert internal is contract
