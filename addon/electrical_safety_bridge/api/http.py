"""API v1: the integration's only contract. REST for questions, a WebSocket for pushes.

Every route except ``/health`` and ``/openapi.json`` needs ``Authorization: Bearer <token>``;
a missing or wrong token gets a bare 401 that says nothing about why. Bad input gets a 4xx
JSON error that says what was wrong. A slow or vanished WebSocket client can never hold up
polling: each client has a bounded queue and is dropped when it overflows.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import math
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMessage as WSMsg
from aiohttp import WSMsgType, hdrs, web

from .. import __version__
from ..common.enums import ErrorCode, EventType, HazardState, MessageType
from ..common.errors import BusUnavailable, UnknownDevice, UnknownHazard
from ..common.errors import UnknownAlarm as UnknownAlarmAnswer
from ..common.parsing import unencodable_text
from ..common.schema import (
    MIN_SUPPORTED_SCHEMA_VERSION,
    SCHEMA_HEADER,
    SCHEMA_VERSION,
    client_too_old,
)
from ..errors import BridgeError, BusError, CommandRefused, RefusalReason, StorageFailing
from ..log_filters import AIOHTTP_LOG_GUARD, RateLimitedReport, guard_aiohttp_logs
from ..safety.alarms import UnknownAlarm
from ..webui import SUPERVISOR_ADDRESS
from ..webui import mount as mount_web_ui
from .auth import bearer, token_matches
from .backend import BridgeBackend
from .openapi import OPENAPI
from .report_route import add_report_route, serve_report

_LOGGER = logging.getLogger(__name__)

WS_QUEUE_LIMIT = 256
_PUBLIC = frozenset({"/api/v1/health", "/api/v1/openapi.json"})
_API_PREFIX = "/api/"
_BRIDGE: web.AppKey[BridgeBackend] = web.AppKey("bridge")
_HUB: web.AppKey[Hub] = web.AppKey("hub")
_REFUSALS: web.AppKey[RateLimitedReport] = web.AppKey("refusals")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _answer(error: BridgeError) -> web.Response:
    """The answer of an error of the contract: its body and status, which a client reads
    back into the same error (``common.errors.error_from_answer``)."""
    return _json(error.to_dict(), status=error.http_status)


def _error(status: int, error: str, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": error, "message": message, **extra}, status=status)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, default=str)


def _json(value: Any, status: int = 200) -> web.Response:
    return web.json_response(value, status=status, dumps=_dumps)


@web.middleware
async def _auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in _PUBLIC or not request.path.startswith(_API_PREFIX):
        return await handler(request)  # the web UI (webui/) guards its own routes
    bridge = request.app[_BRIDGE]
    if not token_matches(bridge.token, bearer(request.headers.get("Authorization"))):
        _log_refusal(request)
        # Nothing about why: a guesser learns no more from a wrong token than from none.
        return _error(401, "unauthorized", "a valid bearer token is required")
    if client_too_old(request.headers.get(SCHEMA_HEADER)):
        # A client older than this bridge serves gets nothing it would misread.
        return _error(
            400,
            ErrorCode.CLIENT_TOO_OLD,
            f"this bridge serves clients of schema {MIN_SUPPORTED_SCHEMA_VERSION} and newer;"
            " update the integration",
            schema_version=SCHEMA_VERSION,
            min_supported_schema_version=MIN_SUPPORTED_SCHEMA_VERSION,
        )
    return await handler(request)


def _log_refusal(request: web.Request) -> None:
    """Log a refused request, at most once per interval.

    A guesser's flood of 401s is then a few lines, each saying how many and from where.
    """
    peer = request.remote or "unknown"
    held_back = request.app[_REFUSALS].note(peer)
    if held_back is not None:
        _LOGGER.warning(
            "refused an API request without a valid token from %s%s",
            peer,
            f" (and {held_back})" if held_back else "",
        )


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _error(exc.status, exc.reason.lower().replace(" ", "_"), exc.reason)
    except _BadRequest as exc:
        return exc.response()
    except CommandRefused as exc:
        # A refusal (an unknown device included) is the same answer wherever it is raised.
        return _answer(exc)
    except Exception:
        _LOGGER.exception("API request %s %s failed", request.method, request.path)
        return _error(500, "internal_error", "the bridge could not answer; see its log")


class _BadRequest(Exception):
    """Input the bridge will not act on: a 4xx saying what was wrong, and where."""

    status = 400
    error = "bad_request"

    def __init__(
        self, message: str, *, parameter: str | None = None, value: str | None = None
    ) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.value = value

    def response(self) -> web.Response:
        where = {"parameter": self.parameter, "value": self.value}
        return _error(
            self.status, self.error, str(self), **{k: v for k, v in where.items() if v is not None}
        )


class _UnsupportedMediaType(_BadRequest):
    status = 415
    error = "unsupported_media_type"


_SHOWN_CHARACTERS = 40


def _shown(text: str) -> str:
    """``text`` short enough to quote in an error: the start, and how long it was."""
    if len(text) <= _SHOWN_CHARACTERS:
        return text
    return f"{text[:_SHOWN_CHARACTERS]}… ({len(text)} characters)"


# --------------------------------------------------------------------------- JSON bodies

#: Deepest nesting of arrays and objects in a body; the API's own bodies are flat.
MAX_JSON_DEPTH = 32
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def _nested_too_deep(text: str) -> bool:
    """Whether the JSON ``text`` nests deeper than :data:`MAX_JSON_DEPTH`.

    Checked before parsing, because ``json.loads`` recurses once per level: 30,000 nested
    arrays (well within the size limit) end in a RecursionError. Brackets inside strings
    are not nesting, so the strings are cut out first.
    """
    depth = 0
    for bracket in _JSON_BRACKET.finditer(_JSON_STRING.sub('""', text)):
        if bracket[0] in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        else:
            depth -= 1
    return False


@dataclass(frozen=True)
class _Unrepresentable:
    """A number in a body the bridge cannot hold, kept as text until its key is known."""

    literal: str
    expected: str


_INTEGER_RANGE = "an integer from -2^63 to 2^63-1"


def _json_int(literal: str) -> int | _Unrepresentable:
    # 2^63 has 19 digits: a longer literal is out of range without converting it, and int()
    # of thousands of digits is slow, and past 4,300 digits a ValueError.
    if len(literal) > 20:
        return _Unrepresentable(literal, _INTEGER_RANGE)
    value = int(literal)
    return value if _INT64_MIN <= value <= _INT64_MAX else _Unrepresentable(literal, _INTEGER_RANGE)


def _json_float(literal: str) -> float | _Unrepresentable:
    value = float(literal)  # 1e400 is inf, not an error
    return value if math.isfinite(value) else _Unrepresentable(literal, "a finite number")


def _json_constant(literal: str) -> _Unrepresentable:
    # NaN, Infinity and -Infinity: Python reads them, but they are not JSON.
    return _Unrepresentable(literal, "a finite number")


def _first_unrepresentable(data: dict[str, Any]) -> tuple[str, _Unrepresentable] | None:
    """The first number the bridge cannot hold, in document order, with its key path."""
    stack: list[tuple[str, Any]] = [(key, value) for key, value in reversed(data.items())]
    while stack:
        path, value = stack.pop()
        if isinstance(value, _Unrepresentable):
            return path, value
        if isinstance(value, dict):
            stack.extend((f"{path}.{key}", item) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend(
                (f"{path}[{index}]", item) for index, item in reversed(list(enumerate(value)))
            )
    return None


def _json_object(text: str) -> dict[str, Any]:
    """The JSON object in ``text``; a 400 naming the key of any value the bridge cannot hold."""
    too_deep = f"the body nests arrays and objects deeper than {MAX_JSON_DEPTH} levels"
    if _nested_too_deep(text):
        raise _BadRequest(too_deep)
    try:
        data = json.loads(
            text, parse_int=_json_int, parse_float=_json_float, parse_constant=_json_constant
        )
    except json.JSONDecodeError as exc:
        raise _BadRequest(
            f"the body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:  # the depth check comes first; this only keeps it a 400
        raise _BadRequest(too_deep) from None
    if not isinstance(data, dict):
        raise _BadRequest("the body must be a JSON object")
    where = unencodable_text(data)
    if where is not None:
        # A lone surrogate escape ("\\ud800") parses, but nothing can store, sign or send
        # it again: refused here, where the key can still be named.
        raise _BadRequest(
            f"'{_shown(where)}' is not valid Unicode: it holds a lone surrogate escape",
            parameter=_shown(where),
        )
    found = _first_unrepresentable(data)
    if found is not None:
        path, number = found
        raise _BadRequest(
            f"'{_shown(path)}' must be {number.expected}, not {_shown(number.literal)}",
            parameter=_shown(path),
            value=_shown(number.literal),
        )
    return data


def _require_json_media_type(request: web.Request) -> None:
    """Only ``application/json`` in UTF-8: a body is never read some other way than sent.

    Anything else is a 415, even if it would parse: ``text/plain`` is what a cross-site
    form can send, and another charset would be decoded differently than it was written.
    """
    sent = request.headers.get(hdrs.CONTENT_TYPE)
    if sent is None:
        raise _UnsupportedMediaType(
            "a request body needs 'Content-Type: application/json'", parameter="Content-Type"
        )
    charset = request.charset
    if request.content_type != "application/json" or (
        charset is not None and charset.lower() != "utf-8"
    ):
        raise _UnsupportedMediaType(
            "the body must be sent as 'Content-Type: application/json' (charset utf-8 or"
            f" none), not '{_shown(sent)}'",
            parameter="Content-Type",
            value=_shown(sent),
        )


async def _body(request: web.Request, *, required: bool = True) -> dict[str, Any]:
    """The request's body: a JSON object, in UTF-8, sent as ``application/json``.

    Without ``required``, a request without a body is an empty object.
    """
    if not request.body_exists:
        if required:
            raise _BadRequest("the body must be a JSON object")
        return {}
    _require_json_media_type(request)
    raw = await request.read()  # at most client_max_size: a larger body is a 413
    if not raw and not required:
        return {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _BadRequest(f"the body is not valid UTF-8 (byte {exc.start})") from None
    return _json_object(text)


def _who(data: dict[str, Any], request: web.Request) -> str:
    who = data.get("who", "api")
    if not isinstance(who, str) or not who.strip() or len(who) > 200:
        raise _BadRequest("'who' must be a non-empty string of at most 200 characters")
    return who.strip()


#: The source a step taken through this API is recorded with (``Actor.source``).
API_SOURCE = "api"
MAX_NOTE = 2000
MAX_WHY = 500


def _by(who: str, request: web.Request) -> str:
    """Who the bridge records for a request: the name given, and where it came from."""
    return f"{who} ({request.remote or 'unknown'})"


def _text(data: dict[str, Any], key: str, limit: int, what: str) -> str:
    """A required, non-empty string of the body (a 400 naming ``key`` otherwise)."""
    value = data.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        shown = None if value is None else _shown(str(value))
        raise _BadRequest(
            f"'{key}' must be a non-empty string of at most {limit} characters: {what}"
            + ("" if shown is None else f", not '{shown}'"),
            parameter=key,
            value=shown,
        )
    return value.strip()


# --------------------------------------------------------------------------- handlers


async def _health(request: web.Request) -> web.Response:
    # Always 200 while the process serves (the add-on's HEALTHCHECK restarts on failure,
    # and a restart cures neither a full disk nor an overloaded line): the body says
    # "degraded" and what is wrong.
    bridge = request.app[_BRIDGE]
    return _json({**bridge.status(), "version": __version__})


async def _openapi(request: web.Request) -> web.Response:
    return _json(OPENAPI)


async def _info(request: web.Request) -> web.Response:
    return _json(request.app[_BRIDGE].info())


async def _devices(request: web.Request) -> web.Response:
    return _json({"devices": request.app[_BRIDGE].devices()})


def _known_device(request: web.Request) -> str:
    """The path's device id; UnknownDevice (404) when the bridge has no such device."""
    device_id = request.match_info["device_id"]
    if device_id not in request.app[_BRIDGE].device_bus:
        raise UnknownDevice(device_id)
    return device_id


async def _device(request: web.Request) -> web.Response:
    bridge = request.app[_BRIDGE]
    device_id = _known_device(request)
    return _json(bridge.device(device_id))


async def _command(request: web.Request) -> web.Response:
    bridge = request.app[_BRIDGE]
    device_id = _known_device(request)
    try:
        data = await _body(request)
        who = _who(data, request)
        command = data.get("command")
        setpoint = data.get("setpoint")
        if (command is None) == (setpoint is None):
            raise _BadRequest("give either 'command' or 'setpoint' with 'value'")
        if command is not None and not isinstance(command, str):
            raise _BadRequest("'command' must be a string")
        number = 0.0
        if setpoint is not None:
            value = data.get("value")
            if not isinstance(setpoint, str):
                raise _BadRequest("'setpoint' must be a string")
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
            ):
                raise _BadRequest("'value' must be a finite number")
            number = float(value)
    except _BadRequest as exc:
        return exc.response()
    bus = bridge.device_bus[device_id]
    by = f"{who} ({request.remote or 'unknown'})"
    try:
        if isinstance(setpoint, str):
            result = await bus.write_setpoint(device_id, setpoint, number, who=by)
        else:
            result = await bus.command(device_id, str(command), who=by)
    except CommandRefused as exc:
        return _answer(exc)
    except BusError as exc:
        return _answer(BusUnavailable(str(exc)))
    body = result.as_dict()
    if result.reason and result.outcome.value == "refused":
        status = 404 if result.reason == RefusalReason.UNKNOWN_DEVICE else 409
        return _json({"error": "refused", **body}, status=status)
    return _json(body)


async def _alarms(request: web.Request) -> web.Response:
    bridge = request.app[_BRIDGE]
    return _json({"alarms": [a.as_dict() for a in bridge.alarms.open_alarms()]})


async def _acknowledge(request: web.Request) -> web.Response:
    bridge = request.app[_BRIDGE]
    try:
        data = await _body(request, required=False)
        who = _who(data, request)
    except _BadRequest as exc:
        return exc.response()
    alarm_id = request.match_info["alarm_id"]
    try:
        events = await bridge.acknowledge(alarm_id, f"{who} ({request.remote or 'unknown'})")
    except UnknownAlarm:
        return _answer(UnknownAlarmAnswer(alarm_id))
    except StorageFailing as exc:
        # Not recorded, so not done: refused like a command (409, reason storage_failing).
        return _answer(exc)
    return _json({"acknowledged": alarm_id, "events": [e.as_dict() for e in events]})


async def _hazards(request: web.Request) -> web.Response:
    bridge = request.app[_BRIDGE]
    query = request.query
    state: HazardState | None = None
    text = query.get("state")
    if text is not None:
        try:
            state = HazardState(text)
        except ValueError:
            return _BadRequest(
                f"'state' must be one of {', '.join(s.value for s in HazardState)},"
                f" not '{_shown(text)}'",
                parameter="state",
                value=_shown(text),
            ).response()
    return _json({"hazards": bridge.hazard_list(state, query.get("device_id"))})


async def _hazard(request: web.Request) -> web.Response:
    try:
        return _json(request.app[_BRIDGE].hazard(request.match_info["hazard_id"]))
    except UnknownHazard as exc:
        return _answer(exc)


async def _acknowledge_hazard(request: web.Request) -> web.Response:
    bridge = request.app[_BRIDGE]
    try:
        data = await _body(request, required=False)
        who = _who(data, request)
    except _BadRequest as exc:
        return exc.response()
    try:
        hazard = await bridge.acknowledge_hazard(
            request.match_info["hazard_id"], _by(who, request), API_SOURCE
        )
    except (UnknownHazard, StorageFailing) as exc:
        return _answer(exc)
    return _json({"hazard": hazard})


async def _eliminate_hazard(request: web.Request) -> web.Response:
    bridge = request.app[_BRIDGE]
    try:
        data = await _body(request)
        who = _who(data, request)
        note = _text(data, "note", MAX_NOTE, "what the cause was and how it was fixed")
    except _BadRequest as exc:
        return exc.response()
    try:
        hazard = await bridge.eliminate_hazard(
            request.match_info["hazard_id"], _by(who, request), note, API_SOURCE
        )
    except CommandRefused as exc:  # unknown hazard or device, condition_persists, offline
        return _answer(exc)
    except BusError as exc:
        return _answer(BusUnavailable(str(exc)))
    return _json({"hazard": hazard})


async def _site(request: web.Request) -> web.Response:
    return _json(request.app[_BRIDGE].site())


async def _statistics(request: web.Request) -> web.Response:
    return _json(request.app[_BRIDGE].statistics())


async def _early_warnings(request: web.Request) -> web.Response:
    text = request.query.get("warning")
    if text not in (None, "true", "false"):
        return _BadRequest(
            f"'warning' must be true or false, not '{_shown(text or '')}'",
            parameter="warning",
            value=_shown(text or ""),
        ).response()
    channels = request.app[_BRIDGE].early_warnings(warning_only=text == "true")
    return _json({"channels": channels})


async def _compliance(request: web.Request) -> web.Response:
    device_id = request.query.get("device_id")
    return _json(await request.app[_BRIDGE].compliance(device_id))


async def _lock_out(request: web.Request) -> web.Response:
    bridge = request.app[_BRIDGE]
    device_id = _known_device(request)
    try:
        data = await _body(request)
        who = _who(data, request)
        why = _text(data, "why", MAX_WHY, "why the device is locked out")
        until = data.get("until")
        if until is not None and (
            isinstance(until, bool)
            or not isinstance(until, (int, float))
            or not math.isfinite(until)
            or until <= time.time()
        ):
            raise _BadRequest(
                "'until' must be a time in the future (seconds since the epoch), or absent,"
                f" not {_shown(repr(until))}",
                parameter="until",
                value=_shown(repr(until)),
            )
    except _BadRequest as exc:
        return exc.response()
    try:
        lockout = await bridge.lock_out(
            device_id, _by(who, request), why, None if until is None else float(until), API_SOURCE
        )
    except CommandRefused as exc:
        return _answer(exc)
    except ValueError as exc:  # its time passed while the request waited
        return _BadRequest(str(exc), parameter="until").response()
    return _json({"lockout": lockout})


async def _lift_lock_out(request: web.Request) -> web.Response:
    bridge = request.app[_BRIDGE]
    device_id = _known_device(request)
    try:
        data = await _body(request, required=False)
        who = _who(data, request)
    except _BadRequest as exc:
        return exc.response()
    try:
        lifted = await bridge.lift_lock_out(device_id, _by(who, request), API_SOURCE)
    except CommandRefused as exc:
        return _answer(exc)
    return _json({"lockout": None, "lifted": lifted})


_MAX_LIMIT = 1000
_DEFAULT_LIMIT = 100
_SEQ_MAX = 2**63 - 1  # SQLite's largest INTEGER
# At most 19 digits (2^63-1 has 19), so int() never sees thousands of digits.
_DECIMAL_INTEGER = re.compile(r"[0-9]{1,19}")
_DECIMAL_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _integer_parameter(query: Any, name: str, low: int, high: int) -> int | None:
    """The query parameter ``name``: decimal digits making an integer from low to high."""
    text = query.get(name)
    if text is None:
        return None
    if _DECIMAL_INTEGER.fullmatch(text) is None or not low <= int(text) <= high:
        raise _BadRequest(
            f"'{name}' must be an integer from {low} to {high}, not '{_shown(text)}'",
            parameter=name,
            value=_shown(text),
        )
    return int(text)


def _time_parameter(query: Any, name: str) -> float | None:
    """The query parameter ``name``: a finite number of seconds since the epoch."""
    text = query.get(name)
    if text is None:
        return None
    # float() alone would also take "nan", "1_000" and " 5 "; 1e400 comes out infinite.
    value = float(text) if _DECIMAL_NUMBER.fullmatch(text) else math.nan
    if not math.isfinite(value):
        raise _BadRequest(
            f"'{name}' must be a finite number (seconds since the epoch), not '{_shown(text)}'",
            parameter=name,
            value=_shown(text),
        )
    return value


def _filters(request: web.Request) -> dict[str, Any]:
    query = request.query
    types = None
    if "type" in query:
        types = []
        for name in query.getall("type"):
            try:
                types.append(EventType(name))
            except ValueError:
                raise _BadRequest(
                    f"'type' must be an event type (as in an event's 'type'), not '{_shown(name)}'",
                    parameter="type",
                    value=_shown(name),
                ) from None
    return {
        "device_id": query.get("device_id"),
        "types": types,
        "since": _time_parameter(query, "since"),
        "until": _time_parameter(query, "until"),
        "after_seq": _integer_parameter(query, "after", 0, _SEQ_MAX),
    }


async def _events(request: web.Request) -> web.Response:
    bridge = request.app[_BRIDGE]
    try:
        filters = _filters(request)
        limit = _integer_parameter(request.query, "limit", 1, _MAX_LIMIT)
    except _BadRequest as exc:
        return exc.response()
    events = await bridge.store.query(**filters, limit=_DEFAULT_LIMIT if limit is None else limit)
    return _json(
        {
            "events": [e.as_dict() for e in events],
            "next_after": events[-1].seq if events else filters["after_seq"],
        }
    )


async def _events_csv(request: web.Request) -> web.StreamResponse:
    bridge = request.app[_BRIDGE]
    try:
        filters = _filters(request)
    except _BadRequest as exc:
        return exc.response()
    out = io.StringIO(newline="")
    await bridge.store.export_csv(out, **filters)
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="electrical_safety_events.csv"'},
    )


class Hub:
    """The connected WebSocket clients."""

    def __init__(self) -> None:
        self.clients: set[WebSocketClient] = set()
        #: Set once the first client has connected.
        self.listened = asyncio.Event()


class WebSocketClient:
    """One connected client: a bounded queue between the bridge and a socket."""

    def __init__(self, socket: web.WebSocketResponse) -> None:
        self.socket = socket
        self.queue: asyncio.Queue[str] = asyncio.Queue(WS_QUEUE_LIMIT)
        self.dropped = False

    def offer(self, message: dict[str, Any]) -> None:
        """Queue a message; a client that cannot keep up is dropped, never waited for."""
        if self.dropped:
            return
        try:
            self.queue.put_nowait(_dumps(message))
        except asyncio.QueueFull:
            self.dropped = True
            _LOGGER.warning("dropping a WebSocket client that stopped reading")
            asyncio.get_running_loop().create_task(self.socket.close(code=1013, message=b"slow"))

    async def pump(self) -> None:
        while not self.socket.closed:
            text = await self.queue.get()
            await self.socket.send_str(text)


async def _websocket(request: web.Request) -> web.WebSocketResponse:
    bridge = request.app[_BRIDGE]
    socket = web.WebSocketResponse(heartbeat=30.0, max_msg_size=64 * 1024)
    await socket.prepare(request)
    client = WebSocketClient(socket)
    client.offer({"type": "snapshot", **bridge.snapshot()})
    clients = request.app[_HUB].clients
    clients.add(client)
    request.app[_HUB].listened.set()
    pump = asyncio.create_task(client.pump())
    try:
        async for message in socket:
            answer = _answer_client_message(message)
            if answer is not None:
                client.offer(answer)
    finally:
        clients.discard(client)
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await pump
    return socket


def _answer_client_message(message: WSMsg) -> dict[str, Any] | None:
    """The answer to what a WebSocket client sent: a pong to a ping, else an error saying
    what was wrong (never silence: a client that gets nothing cannot tell why)."""
    if message.type is WSMsgType.BINARY:
        return _ws_error("send JSON text, not a binary message")
    if message.type is not WSMsgType.TEXT:
        return None  # closing and control frames: aiohttp's
    try:
        data = _json_object(message.data)
    except _BadRequest as exc:
        return _ws_error(f"a message must be a JSON object with a 'type': {exc}")
    kind = data.get("type")
    if kind == MessageType.PING:
        return {"type": MessageType.PONG.value}
    shown = _shown(kind) if isinstance(kind, str) else repr(kind)[:_SHOWN_CHARACTERS]
    return _ws_error(
        f"'type' must be '{MessageType.PING.value}', the only message a client sends, not {shown}"
    )


def _ws_error(message: str) -> dict[str, Any]:
    return {"type": MessageType.ERROR.value, "error": "bad_request", "message": message}


def client_count(app: web.Application) -> int:
    """How many WebSocket clients are connected (Home Assistant is one)."""
    return len(app[_HUB].clients)


def first_listener(app: web.Application) -> asyncio.Event:
    """Set once a WebSocket client has connected."""
    return app[_HUB].listened


def broadcast(app: web.Application, message: dict[str, Any]) -> None:
    """Offer a message to every connected client."""
    for client in list(app[_HUB].clients):
        client.offer(message)


async def close_clients(app: web.Application) -> None:
    """Close every WebSocket, so that the server can stop without waiting for them."""
    for client in list(app[_HUB].clients):
        await client.socket.close(code=1001, message=b"bridge stopping")


async def _guarded_logs(app: web.Application) -> AsyncIterator[None]:
    """While the app serves: the token kept out of aiohttp's log, and no 401 uncounted."""
    bridge = app[_BRIDGE]
    # aiohttp quotes a malformed request, headers and all, in its log. The token is read
    # at each record, so it is redacted whatever the bridge loads.
    forget_token = guard_aiohttp_logs(lambda: bridge.token)
    try:
        yield
    finally:
        held_back = app[_REFUSALS].held_back()
        if held_back:
            _LOGGER.warning("refused API requests without a valid token: %s", held_back)
        for line in AIOHTTP_LOG_GUARD.held_back():
            _LOGGER.warning("%s", line)
        forget_token()


def create_app(
    bridge: BridgeBackend, *, ingress_proxy: str = SUPERVISOR_ADDRESS
) -> web.Application:
    """The aiohttp application of API v1, and the web UI at ``/``."""
    app = web.Application(middlewares=[_errors, _auth], client_max_size=64 * 1024)
    app[_BRIDGE] = bridge
    app[_HUB] = Hub()
    app[_REFUSALS] = RateLimitedReport()
    app.cleanup_ctx.append(_guarded_logs)
    app.router.add_get("/api/v1/health", _health)
    app.router.add_get("/api/v1/openapi.json", _openapi)
    app.router.add_get("/api/v1/info", _info)
    app.router.add_get("/api/v1/devices", _devices)
    app.router.add_get("/api/v1/devices/{device_id}", _device)
    app.router.add_post("/api/v1/devices/{device_id}/commands", _command)
    app.router.add_get("/api/v1/alarms", _alarms)
    app.router.add_post("/api/v1/alarms/{alarm_id}/acknowledge", _acknowledge)
    app.router.add_get("/api/v1/hazards", _hazards)
    app.router.add_get("/api/v1/hazards/{hazard_id}", _hazard)
    app.router.add_post("/api/v1/hazards/{hazard_id}/acknowledge", _acknowledge_hazard)
    app.router.add_post("/api/v1/hazards/{hazard_id}/eliminate", _eliminate_hazard)
    app.router.add_get("/api/v1/statistics", _statistics)
    app.router.add_get("/api/v1/site", _site)
    app.router.add_get("/api/v1/early-warnings", _early_warnings)
    app.router.add_get("/api/v1/compliance", _compliance)
    app.router.add_post("/api/v1/devices/{device_id}/lockout", _lock_out)
    app.router.add_post("/api/v1/devices/{device_id}/lockout/lift", _lift_lock_out)
    app.router.add_get("/api/v1/events", _events)
    app.router.add_get("/api/v1/events.csv", _events_csv)
    app.router.add_get("/api/v1/ws", _websocket)
    add_report_route(app, bridge)
    mount_web_ui(
        app,
        bridge,
        websocket=_websocket,
        events_csv=_events_csv,
        report=serve_report,
        ingress_proxy=ingress_proxy,
    )
    return app
