"""Fuzz API v1: requests generated from the bridge's own OpenAPI document.

A real bridge (:class:`~electrical_safety_bridge.service.Bridge`, its aiohttp server on
127.0.0.1) runs on simulated units; requests go to it over real HTTP. For each operation of
``api/openapi.py`` the generator reads the document: path parameters (real device, alarm and
hazard ids, and odd ones), query parameters (valid per their schema, out of range, of the
wrong kind, repeated, not UTF-8), bodies (valid per their schema, then mutated: keys
dropped, values of the wrong kind, huge numbers, NaN, lone surrogates, deep nesting, bytes
that are not JSON, the wrong Content-Type), and sometimes no token or a wrong one.

The oracle: no 5xx (a documented 503 names its error like any other); every status is one
the document lists for the operation; a 4xx has a JSON body with ``error`` and a
``message``; a JSON 2xx matches the schema the document gives it; every answer comes within
a bound; and ``/health`` still answers after each case.

The document is walked by a small generator here rather than by schemathesis: that would
bring a large tree of dependencies into the bridge's environment, and the document's
schemas are simple enough (flat objects, enums, ranges) to generate from directly.

Run it with ``.venv-bridge/bin/python bench/fuzz_api.py --cases 20000``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sys
import tempfile
import urllib.parse
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TextIO

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from jsonschema import (  # type: ignore[import-untyped]  # test-only, no stubs
    Draft202012Validator,
    ValidationError,
)
from yarl import URL

from bench._fuzz import (
    FuzzConfig,
    Report,
    fuzz_main,
    interesting,
    mutate_bytes,
    mutate_json,
    nested,
    random_json,
    wait_until,
)
from electrical_safety_bridge.api.openapi import OPENAPI
from electrical_safety_bridge.bus.bus_settings import BusSettings, DeviceSpec, PollIntervals
from electrical_safety_bridge.common.enums import Region
from electrical_safety_bridge.config.bridge_config import BridgeConfig, BusConfig
from electrical_safety_bridge.config.site_config import SiteConfig
from electrical_safety_bridge.modbus.lines import TcpLine
from electrical_safety_bridge.profiles.loader import find_profile
from electrical_safety_bridge.service import Bridge
from electrical_safety_bridge.simulator import SimulatedBus, SimulatedUnit

#: One answer may take this long: a command waits for the bus, a report is rendered.
ANSWER_BOUND_S: Final = 30.0
#: The event writer is checked after every this many cases, and after the last.
STORE_PROBE_EVERY: Final = 50
#: aiohttp's longest request line (max_line_size).
HTTP_LINE_LIMIT: Final = 8190
METHODS: Final = ("get", "post", "put", "delete", "patch")
DEVICES: Final = (("arcm", 1, "SIM-ARCM"), ("asj", 2, "ASJ"))
#: A device the requests never name, so that no lock-out of theirs refuses the probe's
#: command (see still_storing).
PROBE_DEVICE: Final = "probe"
#: Path parameter values besides the real ids.
ODD_IDS: Final = (
    "nope",
    "",
    " ",
    "..",
    "%2e%2e",
    "a" * 3000,
    "漢字",
    "\u0000",
    "%00",
    "%ff",
    "%ed%a0%80",
    "arcm/../asj",
    "ARCM",
)
#: Query parameter values of the wrong kind, out of range, or not text at all.
ODD_QUERY: Final = (
    "",
    "-1",
    "0",
    "1e400",
    "nan",
    "inf",
    "-inf",
    "1_000",
    " 5 ",
    "9223372036854775808",
    "99999999999999999999999",
    "0x10",
    "true",
    "null",
    "x" * 5000,
    "%ff",
    "%ed%a0%80",
    "%00",
    "2024-13",
    "9999-99",
    "open",
)
#: What a request body must never be answered with: a documented 4xx is fine.
RAW_BODIES: Final[tuple[bytes, ...]] = (
    b"",
    b"{",
    b"[]",
    b"null",
    b'"text"',
    b"1",
    b"\xff\xfe{}",
    b'{"who": "\xed\xa0\x80"}',
    b'{"who": NaN}',
    b'{"value": 1e400}',
    b'{"until": 99999999999999999999999999999}',
    b'{"who": "a", "who": "b"}',
    nested(100_000, "[", "]").encode(),
    nested(40, '{"a":', "}", "1").encode(),
    b"{" + b'"k":1,' * 20_000 + b'"z":1}',
    b" " * 70_000,
)
CONTENT_TYPES: Final = (
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=latin-1",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/json; charset=\u00e9",
    "",
)


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    template: str
    spec: dict[str, Any]


def operations() -> list[Operation]:
    """Every operation the document describes."""
    return [
        Operation(method, template, spec)
        for template, methods in OPENAPI["paths"].items()
        for method, spec in methods.items()
        if method in METHODS
    ]


# --------------------------------------------------------------------------- values


def schema_value(rng: random.Random, schema: dict[str, Any]) -> Any:
    """A value valid for a (simple) schema: enum, const, integer, number, string, array,
    object."""
    if "enum" in schema:
        return rng.choice(schema["enum"])
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "integer":
        return rng.randint(schema.get("minimum", 0), min(schema.get("maximum", 10**6), 10**12))
    if kind == "number":
        return rng.choice((0, 1.5, 1_800_000_000.0, 4_102_444_800.0))
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "array":
        return [schema_value(rng, schema.get("items", {})) for _ in range(rng.randint(0, 3))]
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", ()))
        return {
            name: schema_value(rng, inner)
            for name, inner in properties.items()
            if name in required or rng.random() < 0.7
        }
    if "pattern" in schema and "[0-9]{4}-[0-9]{2}" in schema["pattern"]:
        return f"{rng.randint(2020, 2030)}-{rng.randint(1, 12):02d}"
    if rng.random() < 0.15:  # JSON may escape a lone surrogate; UTF-8 cannot carry it
        return rng.choice(("\ud800", "who\udfff", "\ud83d"))
    low, high = schema.get("minLength", 0), min(schema.get("maxLength", 20), 40)
    return "".join(rng.choice("abcde fgh-_é漢") for _ in range(rng.randint(max(low, 1), high)))


def _query_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --------------------------------------------------------------------------- requests


@dataclass(slots=True)
class Request:
    operation: Operation
    path: str  # already percent-encoded
    query: str  # already percent-encoded, without "?"
    headers: dict[str, str]
    body: bytes | None
    authorised: bool

    def describe(self) -> str:
        body = "" if self.body is None else self.body[:200].decode("utf-8", "backslashreplace")
        return (
            f"{self.operation.method.upper()} {self.path}"
            f"{'?' + self.query if self.query else ''} {self.headers} {body}"
        )


@dataclass(slots=True)
class Known:
    """Ids the running bridge has, for path parameters that reach past a 404."""

    alarms: list[str] = field(default_factory=list)
    hazards: list[str] = field(default_factory=list)


def _path_value(rng: random.Random, name: str, known: Known) -> str:
    real = {
        "device_id": [d for d, _, _ in DEVICES],
        "alarm_id": known.alarms,
        "hazard_id": known.hazards,
    }.get(name, [])
    if real and rng.random() < 0.7:
        return urllib.parse.quote(rng.choice(real), safe="")
    value = rng.choice(ODD_IDS)
    return value if value.startswith("%") else urllib.parse.quote(value, safe="")


def _query(rng: random.Random, parameters: list[dict[str, Any]]) -> str:
    pairs: list[str] = []
    for parameter in parameters:
        if parameter["in"] != "query" or rng.random() < 0.4:
            continue
        name = parameter["name"]
        roll = rng.random()
        if roll < 0.5:
            value = _query_text(schema_value(rng, parameter.get("schema", {})))
            pairs.append(f"{name}={urllib.parse.quote(value, safe='', errors='surrogatepass')}")
        else:
            odd = rng.choice(ODD_QUERY)
            value = odd if odd.startswith("%") else urllib.parse.quote(odd, safe="")
            pairs.append(f"{name}={value}")
            if rng.random() < 0.2:
                pairs.append(f"{name}={value}")  # given twice
    if rng.random() < 0.05:
        pairs.append("undocumented=1")
    return "&".join(pairs)


def _body(rng: random.Random, spec: dict[str, Any]) -> tuple[bytes | None, dict[str, str]]:
    request_body = spec.get("requestBody")
    headers = {"Content-Type": "application/json"}
    if request_body is None:
        return (None, {}) if rng.random() < 0.9 else (b'{"x": 1}', headers)
    schema = request_body["content"]["application/json"]["schema"]
    value: Any = schema_value(rng, schema)
    roll = rng.random()
    if roll < 0.4:
        pass  # valid
    elif roll < 0.75:
        for _ in range(rng.randint(1, 3)):
            value = mutate_json(rng, value)
    elif roll < 0.8:
        value = random_json(rng)
    else:
        body = rng.choice(RAW_BODIES)
        if rng.random() < 0.3:
            body = mutate_bytes(rng, json.dumps(schema_value(rng, schema)).encode())
        return body, headers
    if isinstance(value, dict) and rng.random() < 0.2:
        key = rng.choice([*value, "who"]) if value else "who"
        value[key] = interesting(rng)
    try:
        body = json.dumps(value).encode()  # ASCII: a lone surrogate goes as an escape
    except ValueError:  # NaN and infinities: sent as Python writes them, not JSON
        body = json.dumps(value, allow_nan=True).encode()
    if rng.random() < 0.1:
        headers = {"Content-Type": rng.choice(CONTENT_TYPES)} if rng.random() < 0.8 else {}
    return body, headers


def make_request(rng: random.Random, operation: Operation, known: Known) -> Request:
    parameters = operation.spec.get("parameters", [])
    path = operation.template
    for parameter in parameters:
        if parameter["in"] == "path":
            name = parameter["name"]
            path = path.replace("{" + name + "}", _path_value(rng, name, known))
    body, headers = _body(rng, operation.spec)
    authorised = rng.random() < 0.95
    return Request(operation, path, _query(rng, parameters), headers, body, authorised)


# --------------------------------------------------------------------------- the rig


@dataclass(slots=True)
class Running:
    bridge: Bridge
    sim: SimulatedBus
    session: aiohttp.ClientSession
    base: str
    seen: int = 0  # the last event seq the store probe read

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.bridge.token}"}


@contextlib.asynccontextmanager
async def running_bridge() -> AsyncIterator[Running]:
    """A bridge on two simulated units (one with an alarm raised), in a temp folder."""
    every = (*DEVICES, (PROBE_DEVICE, 3, "SIM-ARCM"))
    sim = SimulatedBus([SimulatedUnit(find_profile(model), unit) for _, unit, model in every])
    server = await sim.serve_tcp("127.0.0.1", 0)
    assert server.port is not None
    settings = BusSettings(
        "line",
        TcpLine("127.0.0.1", server.port),
        intervals=PollIntervals(alarm=0.1, telemetry=0.5, slow=2.0),
        tcp_timeout=1.0,
    )
    devices = tuple(
        DeviceSpec(name, unit, find_profile(model), name.upper()) for name, unit, model in every
    )
    with tempfile.TemporaryDirectory(prefix="fuzz-api-") as folder:
        config = BridgeConfig(
            data_dir=Path(folder),
            buses=(BusConfig(settings, devices),),
            api_port=0,
            site=SiteConfig(name="Fuzz flat", id="fuzz-flat", region=Region.CN),
        )
        bridge = Bridge(config)
        await bridge.start()
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=ANSWER_BOUND_S))
        try:
            units = bridge.buses["line"].units.values()
            await wait_until(lambda: all(u.online for u in units), 30, "every unit online")
            # An alarm, so that alarm and hazard ids exist to acknowledge and eliminate.
            sim.unit(1).set("residual_current", 900)
            await wait_until(lambda: bool(bridge.alarms.open_alarms()), 30, "an alarm raised")
            yield Running(bridge, sim, session, f"http://127.0.0.1:{bridge.api_port}")
        finally:
            await session.close()
            await bridge.stop()
            await sim.stop()


async def learn(running: Running, known: Known) -> None:
    """The alarm and hazard ids the bridge has now."""
    async with running.session.get(
        running.base + "/api/v1/alarms", headers=running.auth
    ) as response:
        known.alarms = [a["id"] for a in (await response.json())["alarms"]]
    async with running.session.get(
        running.base + "/api/v1/hazards", headers=running.auth
    ) as response:
        known.hazards = [h["id"] for h in (await response.json())["hazards"]]


# --------------------------------------------------------------------------- the oracle

_COMPONENTS: Final = OPENAPI["components"]


def _schema_problem(schema: dict[str, Any], instance: Any) -> str | None:
    try:
        Draft202012Validator({"components": _COMPONENTS, **schema}).validate(instance)
    except ValidationError as exc:
        return f"{exc.message} at {list(exc.absolute_path)}"
    return None


async def send(report: Report, running: Running, request: Request) -> None:
    """Send one request and judge its answer."""
    headers = dict(request.headers)
    if request.authorised:
        headers.update(running.auth)
    elif request.operation.template not in ("/api/v1/health", "/api/v1/openapi.json"):
        headers["Authorization"] = "Bearer wrong"
    url = URL(
        running.base + request.path + ("?" + request.query if request.query else ""),
        encoded=True,
    )
    case = request.describe()
    try:
        async with running.session.request(
            request.operation.method.upper(),
            url,
            data=request.body,
            headers=headers,
            skip_auto_headers=("Content-Type",),
        ) as response:
            status = response.status
            content_type = response.content_type
            raw = await response.read()
    except TimeoutError:
        report.found("hang", case, f"no answer in {ANSWER_BOUND_S} s")
        return
    except aiohttp.ClientError as exc:
        report.found("crash", case, f"the connection failed: {exc!r}")
        return
    report.count(f"status_{status}")
    documented = request.operation.spec["responses"].get(str(status))
    if status >= 500 and (status != 503 or documented is None):
        report.found("server_error", case, f"{status}: {raw[:300]!r}")
        return
    if documented is None and status not in (401, 404, 405, 413, 414, 431):
        # 401 without a token, 404/405 for a path the router does not have (an odd id
        # with a slash), 413/414/431 for what aiohttp refuses before any handler.
        report.found("undocumented_status", case, f"{status}: {raw[:300]!r}")
        return
    if content_type != "application/json":
        if status == 400 and len(str(url)) > HTTP_LINE_LIMIT:
            # aiohttp's HTTP parser refuses a request line this long itself, in plain text,
            # before the application sees a request: nothing of the bridge's to judge.
            report.count("refused_by_http_parser")
            return
        if status >= 400:
            report.found("unclear_error", case, f"{status} as {content_type}: {raw[:200]!r}")
        return
    try:
        answer = json.loads(raw)
    except ValueError:
        report.found("bad_json", case, f"{status}: {raw[:200]!r}")
        return
    if status >= 400:
        if not (
            isinstance(answer, dict)
            and isinstance(answer.get("error"), str)
            and isinstance(answer.get("message"), str)
            and answer["message"].strip()
        ):
            report.found("unclear_error", case, f"{status}: {raw[:300]!r}")
        return
    schema = (documented or {}).get("content", {}).get("application/json", {}).get("schema")
    if schema is not None and (problem := _schema_problem(schema, answer)) is not None:
        report.found("undocumented_answer", case, f"{status}: {problem}")


async def healthy(report: Report, running: Running, case: str) -> None:
    """``/health`` answers 200: the server and its loop are still there."""
    try:
        async with running.session.get(running.base + "/api/v1/health") as response:
            if response.status != 200:
                report.found("unresponsive", case, f"/health answered {response.status}")
    except (TimeoutError, aiohttp.ClientError) as exc:
        report.found("unresponsive", case, f"/health failed: {exc!r}")


async def still_storing(report: Report, running: Running, case: str, marker: str) -> None:
    """A command sent now reaches the event log: the event writer is still alive (a request
    that killed it would leave every later event, alarms too, unstored, and /health 200)."""
    body = {"command": "mute", "who": marker}
    try:
        async with running.session.post(
            running.base + f"/api/v1/devices/{PROBE_DEVICE}/commands",
            json=body,
            headers=running.auth,
        ) as response:
            if response.status != 200:
                report.found("unresponsive", case, f"a valid command got {response.status}")
                return

        async def logged() -> bool:
            async with running.session.get(
                running.base + "/api/v1/events",
                params={"type": "command", "device_id": PROBE_DEVICE, "after": str(running.seen)},
                headers=running.auth,
            ) as response:
                events = (await response.json())["events"]
            if events:
                running.seen = events[-1]["seq"]
            return any(e["data"].get("who", "").startswith(marker) for e in events)

        async with asyncio.timeout(ANSWER_BOUND_S):
            for _ in range(int(ANSWER_BOUND_S / 0.05)):
                if await logged():
                    return
                await asyncio.sleep(0.05)  # the writer's pace; bounded by the timeout
        report.found("events_not_stored", case, "a valid command's event was not stored")
    except (TimeoutError, aiohttp.ClientError) as exc:
        report.found("events_not_stored", case, f"a valid command's event: {exc!r}")


async def fuzz(config: FuzzConfig) -> Report:
    """``config.cases`` requests over every operation of the document, in turn."""
    rng = random.Random(config.seed)
    report = Report("api")
    every = operations()
    known = Known()
    async with running_bridge() as running:
        for index in range(config.cases):
            if report.enough:
                break
            if index % 25 == 0:
                await learn(running, known)
            operation = every[index % len(every)]
            request = make_request(rng, operation, known)
            report.cases += 1
            await send(report, running, request)
            await healthy(report, running, request.describe())
            if index % STORE_PROBE_EVERY == STORE_PROBE_EVERY - 1 or index == config.cases - 1:
                await still_storing(report, running, request.describe(), f"fuzz-probe-{index}")
    return report


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Fuzz and print ``name: value`` lines; exit 1 if anything was found."""
    return fuzz_main(__doc__, fuzz, argv, out, default_cases=5000)


if __name__ == "__main__":
    sys.exit(main())
