"""API v1 against hostile input: every bad request is a clear 4xx, never a 5xx; no secret
reaches the log; a flood of bad requests is a few log lines; the SQLite files are private.

The requests go over real HTTP on 127.0.0.1 to a bridge on simulated units (the rig of
test_api), or, for what only a real process shows, to ``python -m electrical_safety_bridge``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import stat
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.http_exceptions import BadHttpMessage

from electrical_safety_bridge.api.auth import REDACTED
from electrical_safety_bridge.common.enums import EventType
from electrical_safety_bridge.log_filters import (
    AIOHTTP_LOG_GUARD,
    AiohttpLogGuard,
    RateLimitedReport,
    redact_text,
)
from electrical_safety_bridge.profiles.loader import find_profile
from electrical_safety_bridge.relay.outbox import Outbox
from electrical_safety_bridge.safety.events import BridgeEvent
from electrical_safety_bridge.simulator import SimulatedBus, SimulatedUnit
from electrical_safety_bridge.storage.event_store import EventStore
from electrical_safety_bridge.storage.sqlite_files import make_owner_only

from ..conftest import wait_for
from ..test_service_process import UNITS, Launcher, data_dir_in, read_token, write_config
from .conftest import Running

pytestmark = pytest.mark.usefixtures("socket_enabled")

INT64_MAX = 2**63 - 1
SETPOINT = "residual_current_alarm_setpoint"
FLOOD = 1000
# Everything the server side of the API logs through.
API_LOGGERS = ("aiohttp", "electrical_safety_bridge.api.http")


@pytest.fixture
def fresh_log_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process-wide aiohttp log guard without what earlier tests spent of its interval."""
    monkeypatch.setattr(AIOHTTP_LOG_GUARD, "malformed_requests", RateLimitedReport())
    monkeypatch.setattr(AIOHTTP_LOG_GUARD, "server_errors", RateLimitedReport())


async def send(
    api: Running,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    content_type: str | None = "application/json",
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """One request with exactly the body and Content-Type given (None: no such header)."""
    sent = {**api.auth, **(headers or {})}
    if content_type is not None:
        sent["Content-Type"] = content_type
    async with api.session.request(
        method,
        api.url + path,
        data=body,
        params=params,
        headers=sent,
        skip_auto_headers=["Content-Type"] if content_type is None else [],
    ) as response:
        return response.status, await response.json()


async def raw_exchange(port: int, request: bytes) -> bytes:
    """Send bytes no HTTP client would, and read the answer until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def malformed_authorization(token: str) -> bytes:
    """A request whose Authorization line carries the token and a control character."""
    return (
        b"GET /api/v1/info HTTP/1.1\r\nHost: bridge\r\n"
        b"Authorization: Bearer " + token.encode() + b"\x01\r\n\r\n"
    )


async def still_serving(api: Running) -> None:
    status, info = await api.get("/info")
    assert status == 200 and info["bridge_id"] == api.bridge.bridge_id
    assert api.bridge.running


# --------------------------------------------------------------------------- bodies


DEEP = 30_000


@pytest.mark.parametrize(
    ("content_type", "body", "named"),
    [
        ("text/plain", b'{"command": "trip"}', "text/plain"),
        ("text/plain; charset=utf-8", b'{"command": "trip"}', "text/plain"),
        ("application/x-www-form-urlencoded", b"command=trip", "application/x-www-form-urlencoded"),
        (None, b'{"command": "trip"}', "Content-Type: application/json"),
        ("application/json; charset=bogus", b'{"command": "trip"}', "bogus"),
        ("application/json; charset=utf-16", '{"command": "trip"}'.encode("utf-16"), "utf-16"),
        ("application/json; charset=latin-1", b'{"command": "trip"}', "latin-1"),
        ("", b'{"command": "trip"}', "not ''"),
    ],
)
async def test_a_body_that_is_not_utf8_json_is_a_415_and_not_acted_on(
    api: Running, content_type: str | None, body: bytes, named: str
) -> None:
    status, answer = await send(
        api, "POST", "/devices/arcm/commands", body=body, content_type=content_type
    )
    assert status == 415, answer
    assert answer["error"] == "unsupported_media_type"
    assert named in answer["message"]
    status, answer = await send(
        api, "POST", "/alarms/nope/acknowledge", body=body, content_type=content_type
    )
    assert status == 415, answer
    assert api.sim.unit(1).command_log == [], "a refused body must not be executed"
    await still_serving(api)


async def test_utf8_json_in_any_spelling_of_its_content_type_is_accepted(api: Running) -> None:
    for content_type in (
        "application/json",
        "Application/JSON; charset=UTF-8",
        'application/json; charset="utf-8"',
    ):
        status, answer = await send(
            api,
            "POST",
            "/devices/arcm/commands",
            body=b'{"command": "trip", "who": "t\xc3\xa9nant"}',
            content_type=content_type,
        )
        assert status == 200 and answer["outcome"] == "confirmed", answer


async def test_an_acknowledge_without_a_body_is_still_allowed(api: Running) -> None:
    api.sim.unit(2).set("alarm_status", "alarm")
    await wait_for(lambda: bool(api.bridge.alarms.open_alarms("asj")))
    (alarm,) = api.bridge.alarms.open_alarms("asj")
    status, answer = await send(
        api, "POST", f"/alarms/{alarm.id}/acknowledge", body=None, content_type=None
    )
    assert status == 200, answer
    assert answer["events"][0]["type"] == "alarm_acknowledged"


@pytest.mark.parametrize(
    ("body", "parameter", "in_message"),
    [
        (b'{"command": "trip", "who": "\xff\xfe"}', None, "not valid UTF-8"),
        (b"[" * DEEP + b"]" * DEEP, None, "deeper than 32"),
        (b'{"who": "x", "deep": ' + b"[" * 33 + b"]" * 33 + b"}", None, "deeper than 32"),
        (b'{"setpoint": "s", "value": ' + b"9" * 5000 + b"}", "value", "-2^63 to 2^63-1"),
        (b'{"setpoint": "s", "value": ' + str(2**63).encode() + b"}", "value", "-2^63"),
        (b'{"setpoint": "s", "value": -' + str(2**63 + 1).encode() + b"}", "value", "-2^63"),
        (b'{"setpoint": "s", "value": 1e400}', "value", "finite"),
        (b'{"setpoint": "s", "value": NaN}', "value", "finite"),
        (b'{"setpoint": "s", "value": -Infinity}', "value", "finite"),
        (b'{"command": "trip", "x": {"y": [1, 1e999]}}', "x.y[1]", "finite"),
        (b'{"command": "trip"', None, "not valid JSON"),
        (b'"trip"', None, "JSON object"),
    ],
)
async def test_a_body_the_bridge_cannot_hold_is_a_400_naming_what(
    api: Running, body: bytes, parameter: str | None, in_message: str
) -> None:
    assert len(body) < 64 * 1024  # within the size limit: refused for what it holds
    for path in ("/devices/arcm/commands", "/alarms/nope/acknowledge"):
        status, answer = await send(api, "POST", path, body=body)
        assert status == 400, (path, answer)
        assert answer["error"] == "bad_request"
        assert in_message in answer["message"], answer
        assert answer.get("parameter") == parameter
        if parameter is not None:
            assert f"'{parameter}'" in answer["message"]
            assert len(answer["value"]) < 80, "a long value is shortened"
            assert len(answer["message"]) < 200
    assert api.sim.unit(1).command_log == []
    await still_serving(api)


async def test_json_as_deep_as_allowed_and_brackets_in_strings_are_accepted(
    api: Running,
) -> None:
    nested = b"[" * 31 + b"]" * 31  # 32 levels with the enclosing object
    for body in (
        b'{"who": "x", "deep": ' + nested + b"}",
        b'{"who": "x", "note": "' + b"[{" * 1000 + b'\\"' + b'"}',
        b'{"who": "x", "n": ' + str(INT64_MAX).encode() + b"}",
    ):
        status, answer = await send(api, "POST", "/alarms/nope/acknowledge", body=body)
        assert (status, answer["error"]) == (404, "unknown_alarm"), answer


async def test_the_largest_setpoint_integer_reaches_the_device_check(api: Running) -> None:
    body = f'{{"setpoint": "{SETPOINT}", "value": {INT64_MAX}}}'.encode()
    status, answer = await send(api, "POST", "/devices/arcm/commands", body=body)
    assert status == 409 and answer["error"] == "refused", answer


async def test_a_body_over_the_size_limit_is_a_413(api: Running) -> None:
    body = b'{"who": "' + b"x" * (64 * 1024) + b'"}'
    status, answer = await send(api, "POST", "/alarms/nope/acknowledge", body=body)
    assert status == 413, answer
    await still_serving(api)


# --------------------------------------------------------------------------- query numbers


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("after", str(2**63)),
        ("after", str(2**64 + 7)),
        ("after", "1e300"),
        ("after", "1.5"),
        ("after", "-1"),
        ("after", " 5"),
        ("after", "٣"),  # a digit, but not an ASCII one
        ("after", "9" * 5000),
        ("limit", "9" * 5000),
        ("limit", "1.0"),
        ("limit", "0"),
        ("limit", "1001"),
        ("since", "9" * 5000),
        ("since", "1e400"),
        ("since", "nan"),
        ("since", "inf"),
        ("since", "1_000"),
        ("until", "-1e309"),
        ("until", "yesterday"),
        ("type", "x" * 500),
    ],
)
async def test_a_query_value_out_of_range_is_a_400_naming_it(
    api: Running, name: str, value: str
) -> None:
    paths = ["/events", "/events.csv"] if name != "limit" else ["/events"]
    for path in paths:
        status, answer = await send(api, "GET", path, params={name: value})
        assert status == 400, (path, answer)
        assert answer["error"] == "bad_request"
        assert answer["parameter"] == name
        assert f"'{name}'" in answer["message"]
        assert value[:40] in answer["message"] and len(answer["message"]) < 200
        assert len(answer["value"]) < 80
    await still_serving(api)


@pytest.mark.parametrize(
    "params",
    [
        {"after": str(INT64_MAX)},
        {"after": "0", "limit": "1000"},
        {"since": "1e300", "until": "-1e300"},
        {"since": "-5", "until": "1732912345.125"},
        {"since": "0." + "0" * 5000 + "1"},
    ],
)
async def test_query_values_at_the_bounds_are_answered(
    api: Running, params: dict[str, str]
) -> None:
    status, answer = await send(api, "GET", "/events", params=params)
    assert status == 200, answer
    assert isinstance(answer["events"], list)


# --------------------------------------------------------------------------- the log


def everything_logged(records: list[logging.LogRecord]) -> str:
    """Each record as any handler could write it: message, traceback and stack."""
    formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    return "\n".join(formatter.format(record) for record in records)


async def test_no_secret_is_ever_logged(
    api: Running, caplog: pytest.LogCaptureFixture, fresh_log_guard: None
) -> None:
    token = api.bridge.token
    port = api.bridge.api_port
    assert port is not None
    caplog.set_level(logging.DEBUG)
    # Valid requests.
    assert (await api.get("/info"))[0] == 200
    assert (await api.post("/alarms/nope/acknowledge", {"who": token}))[0] == 404
    # 401s, one of them with the token sent bare.
    for authorization in (f"Bearer {token}x", token, f"Basic {token}", ""):
        async with api.session.get(
            api.url + "/info", headers={"Authorization": authorization}
        ) as response:
            assert response.status == 401
    # Malformed lines carrying the token: aiohttp quotes the line it refuses.
    for request in (
        malformed_authorization(token),
        b"GET / HTTP/1.1\r\nHost: b\r\nAuthorization Bearer " + token.encode() + b"\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: b\r\n Authorization: Bearer " + token.encode() + b"\r\n\r\n",
        b"GET /?t=" + token.encode() + b" HTTP/1.1 junk\r\n\r\n",
    ):
        # A new interval for each, so that each is logged, and searched for the token.
        AIOHTTP_LOG_GUARD.malformed_requests = RateLimitedReport()
        assert (await raw_exchange(port, request)).startswith(b"HTTP/1.0 400")
    # Bad bodies with the token in them.
    for content_type, body in (
        ("text/plain", token.encode()),
        ("application/json", b'{"who": "' + token.encode() + b'", "v": 1e999}'),
        ("application/json", b"[" * DEEP + token.encode()),
    ):
        status, _ = await send(
            api, "POST", "/devices/arcm/commands", body=body, content_type=content_type
        )
        assert 400 <= status < 500
    await still_serving(api)

    logged = everything_logged(caplog.records)
    assert token not in logged
    malformed = [r for r in caplog.records if "malformed HTTP request" in r.getMessage()]
    assert len(malformed) == 4, [r.getMessage() for r in malformed]
    assert {r.levelno for r in malformed} == {logging.WARNING}
    assert malformed[0].getMessage() == (
        "refused a malformed HTTP request from 127.0.0.1: 400 Invalid header value char"
    )
    assert not any(r.exc_info or r.exc_text for r in caplog.records if r.name == "aiohttp.server")
    refused = [r for r in caplog.records if "without a valid token" in r.getMessage()]
    assert [r.getMessage() for r in refused] == [
        "refused an API request without a valid token from 127.0.0.1"
    ]


async def test_a_flood_of_bad_requests_is_a_handful_of_log_lines(
    api: Running, caplog: pytest.LogCaptureFixture, fresh_log_guard: None
) -> None:
    port = api.bridge.api_port
    assert port is not None
    limit = asyncio.Semaphore(16)

    async def bad_request(number: int) -> None:
        async with limit:
            kind = number % 4
            if kind == 0:
                await raw_exchange(port, malformed_authorization("guess"))
            elif kind == 1:
                # TLS to the HTTP port: not HTTP at all.
                await raw_exchange(port, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
            else:
                headers = {"Authorization": f"Bearer guess-{number}"} if kind == 2 else {}
                async with api.session.get(api.url + "/events", headers=headers) as response:
                    assert response.status == 401

    caplog.set_level(logging.DEBUG)
    caplog.clear()
    await asyncio.gather(*(bad_request(n) for n in range(FLOOD)))
    await still_serving(api)

    lines = [r for r in caplog.records if r.name.startswith(API_LOGGERS)]
    text = everything_logged(lines)
    assert len(lines) <= 4, text
    assert len(text.splitlines()) == len(lines), "one line each, no traceback"
    assert len(text) < 1000


def test_redaction_covers_bearer_credentials_authorization_values_and_secrets() -> None:
    secret = "s3cr3t-T0ken_value"
    cases = {
        f"Authorization: Bearer {secret}": secret,
        f"b'Authorization Bearer {secret}\\x01'": secret,
        f"{{'Authorization': 'Basic {secret}'}}": secret,
        f"proxy-authorization={secret}": secret,
        f"header BEARER {secret}": secret,
        f"/info?token={secret}": secret,
    }
    for text, hidden in cases.items():
        redacted = redact_text(text, [secret])
        assert hidden not in redacted and REDACTED in redacted, (text, redacted)
    assert redact_text("nothing to hide here") == "nothing to hide here"
    # The web UI's session id is no configured secret: a cookie's whole value goes.
    for text in (
        f"Cookie: esb_session={secret}; esb_language=ja",
        f"{{'Set-Cookie': 'esb_session={secret}; HttpOnly'}}",
    ):
        redacted = redact_text(text)
        assert secret not in redacted and REDACTED in redacted, (text, redacted)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_repeated_report_is_one_line_per_interval_with_a_count() -> None:
    clock = FakeClock()
    report = RateLimitedReport(interval=60.0, clock=clock)
    assert report.note("10.0.0.1") == ""  # the first one is written, nothing held back
    held = [report.note(f"10.0.0.{n % 5}") for n in range(10)]
    assert held == [None] * 10
    clock.now += 59.0
    assert report.note("10.0.0.9") is None
    clock.now += 1.0
    assert report.note("10.0.0.1") == (
        "11 more in the last 60 s, from 10.0.0.0, 10.0.0.1, 10.0.0.2 and others"
    )
    assert report.held_back() == ""
    clock.now += 1.0
    assert report.note("10.0.0.7") is None
    assert report.held_back() == "1 more in the last 1 s, from 10.0.0.7"


def malformed_record(token: str) -> logging.LogRecord:
    """What aiohttp logs for a request it cannot parse: the line quoted in the traceback."""
    try:
        raise BadHttpMessage(
            f"Invalid header value char:\n\n  b'Authorization: Bearer {token}\\x01'\n   ^"
        )
    except BadHttpMessage:
        exc_info = sys.exc_info()
    return logging.LogRecord(
        "aiohttp.server",
        logging.ERROR,
        __file__,
        1,
        "Error handling request from %s",
        ("192.0.2.7",),
        exc_info,
    )


def test_a_malformed_request_is_one_warning_line_per_interval() -> None:
    guard = AiohttpLogGuard()
    clock = FakeClock()
    guard.malformed_requests = RateLimitedReport(clock=clock)
    guard.add_secret(lambda: "the-token")

    first = malformed_record("the-token")
    assert guard.filter(first)
    assert first.levelno == logging.WARNING and first.levelname == "WARNING"
    assert first.exc_info is None and first.exc_text is None
    assert first.getMessage() == (
        "refused a malformed HTTP request from 192.0.2.7: 400 Invalid header value char"
    )
    assert not any(guard.filter(malformed_record("the-token")) for _ in range(500))
    clock.now += 60.0
    later = malformed_record("the-token")
    assert guard.filter(later)
    assert later.getMessage().endswith("(and 500 more in the last 60 s, from 192.0.2.7)")


def test_any_other_record_keeps_its_traceback_redacted() -> None:
    guard = AiohttpLogGuard()
    remove = guard.add_secret(lambda: "the-token")
    try:
        raise RuntimeError("failed with headers {'Authorization': 'Bearer the-token'}")
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "aiohttp.server",
        logging.ERROR,
        __file__,
        1,
        "Unhandled exception %s",
        ("the-token",),
        exc_info,
    )
    record.stack_info = "Stack (most recent call last): the-token"
    assert guard.filter(record)
    assert record.levelno == logging.ERROR
    written = everything_logged([record])
    assert "RuntimeError" in written and "Traceback" in written
    assert "the-token" not in written
    remove()
    plain = logging.LogRecord(
        "aiohttp.web", logging.INFO, __file__, 1, "token %s", ("the-token",), None
    )
    assert guard.filter(plain)
    assert plain.getMessage() == "token the-token", "a removed secret is no longer redacted"


# --------------------------------------------------------------------------- a real process


@pytest.fixture
async def modbus_port() -> AsyncIterator[int]:
    profile = find_profile("ASJ")
    sim = SimulatedBus([SimulatedUnit(profile, unit) for unit in UNITS])
    server = await sim.serve_tcp("127.0.0.1", 0)
    assert server.port is not None
    try:
        yield server.port
    finally:
        await sim.stop()


@pytest.fixture
async def launcher(tmp_path: Path) -> AsyncIterator[Launcher]:
    launcher = Launcher(tmp_path)
    try:
        yield launcher
    finally:
        await launcher.cleanup()


async def test_a_bridge_process_logs_no_token_and_little_under_a_flood(
    tmp_path: Path, modbus_port: int, launcher: Launcher
) -> None:
    bridge = await launcher.start(write_config(tmp_path, modbus_port))
    data_dir = data_dir_in(tmp_path)
    token = read_token(data_dir)
    port = int(bridge.base.rsplit(":", 1)[1].split("/")[0])
    good = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        async with http.get(bridge.base + "info", headers=good) as response:
            assert response.status == 200
        async with http.get(bridge.base + "info", headers={"Authorization": token}) as response:
            assert response.status == 401
        assert (await raw_exchange(port, malformed_authorization(token))).startswith(
            b"HTTP/1.0 400"
        )
        async with http.post(
            bridge.base + "alarms/x/acknowledge",
            headers={**good, "Content-Type": "application/json; charset=bogus"},
            data=b'{"who": "' + token.encode() + b'"}',
        ) as response:
            assert response.status == 415

        before = bridge.log.stat().st_size
        limit = asyncio.Semaphore(16)

        async def bad_request(number: int) -> None:
            async with limit:
                if number % 2:
                    await raw_exchange(port, malformed_authorization(f"guess-{number}"))
                else:
                    async with http.get(bridge.base + "events") as response:
                        assert response.status == 401

        await asyncio.gather(*(bad_request(n) for n in range(FLOOD)))
        flood_bytes = bridge.log.stat().st_size - before
        async with http.get(bridge.base + "info", headers=good) as response:
            assert response.status == 200

    store = data_dir / "events.sqlite3"
    for path in (
        store,
        store.with_name("events.sqlite3-wal"),
        store.with_name("events.sqlite3-shm"),
    ):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path

    bridge.process.send_signal(signal.SIGTERM)
    assert await bridge.exit_code() == 0, bridge.stderr()
    log = bridge.stderr()
    assert token not in log
    assert "Traceback" not in log, log
    assert flood_bytes < 2048, log[-4000:]
    # Every refusal is accounted for, the held-back ones in the lines written at the stop.
    half = FLOOD // 2
    assert counted(log, "malformed HTTP request") == 1 + half, log
    assert counted(log, "without a valid token") == 1 + half, log


def counted(log: str, what: str) -> int:
    """How many refusals the lines about ``what`` account for: each line one, or the held
    back ones it reports ("... (and 57 more in the last 60 s, ...)")."""
    total = 0
    for line in log.splitlines():
        if what in line:
            more = re.search(r"(\d+) more", line)
            first = re.search(r"refused an? \w", line) is not None
            total += int(first) + (int(more[1]) if more else 0)
    return total


# --------------------------------------------------------------------------- file modes


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """The usual umask, under which SQLite would create its files readable by all."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def companions(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]


@pytest.mark.usefixtures("permissive_umask")
def test_the_event_store_and_its_wal_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite3"
    store = EventStore(path)
    try:
        store.append(BridgeEvent(EventType.COMMAND, at=1.0, device_id="d", channel=None, data={}))
        for file in (path, *companions(path)):
            assert mode(file) == 0o600, file
    finally:
        store.close()


@pytest.mark.usefixtures("permissive_umask")
def test_the_relay_outbox_and_its_wal_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "relay.sqlite3"
    outbox = Outbox(path, site="site", max_bytes=10_000)
    try:
        for file in (path, *companions(path)):
            assert mode(file) == 0o600, file
    finally:
        outbox.close()


@pytest.mark.usefixtures("permissive_umask")
def test_files_left_readable_by_an_older_bridge_are_tightened_on_open(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite3"
    EventStore(path).close()
    # A crash leaves the -wal and -shm beside the file: hold them open as a crash would.
    leftover = EventStore(path)
    try:
        for file in (path, *companions(path)):
            file.chmod(0o644)
        reopened = EventStore(path)
        try:
            for file in (path, *companions(path)):
                assert mode(file) == 0o600, file
        finally:
            reopened.close()
    finally:
        leftover.close()


@pytest.mark.usefixtures("permissive_umask")
def test_make_owner_only_only_ever_removes_permissions(tmp_path: Path) -> None:
    new = tmp_path / "new.sqlite3"
    make_owner_only(new)
    assert new.read_bytes() == b"" and mode(new) == 0o600
    read_only = tmp_path / "read_only.sqlite3"
    read_only.touch()
    read_only.chmod(0o444)
    make_owner_only(read_only)
    assert mode(read_only) == 0o400
    make_owner_only(tmp_path / "missing-folder" / "x.sqlite3")  # left to sqlite3 to report
    assert not (tmp_path / "missing-folder").exists()
