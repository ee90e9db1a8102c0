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
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from . import __version__
from .alarms import UnknownAlarm
from .auth import bearer, token_matches
from .errors import BusError, CommandRefused, RefusalReason
from .events import EventType
from .openapi import OPENAPI

if TYPE_CHECKING:
    from .service import Bridge

_LOGGER = logging.getLogger(__name__)

API_VERSION = 1
WS_QUEUE_LIMIT = 256
_PUBLIC = frozenset({"/api/v1/health", "/api/v1/openapi.json"})
_BRIDGE: web.AppKey[Bridge] = web.AppKey("bridge")
_HUB: web.AppKey[Hub] = web.AppKey("hub")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, error: str, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": error, "message": message, **extra}, status=status)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, default=str)


def _json(value: Any, status: int = 200) -> web.Response:
    return web.json_response(value, status=status, dumps=_dumps)


@web.middleware
async def _auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in _PUBLIC:
        return await handler(request)
    bridge = request.app[_BRIDGE]
    if not token_matches(bridge.token, bearer(request.headers.get("Authorization"))):
        # Nothing about why: a guesser learns no more from a wrong token than from none.
        return _error(401, "unauthorized", "a valid bearer token is required")
    return await handler(request)


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _error(exc.status, exc.reason.lower().replace(" ", "_"), exc.reason)
    except Exception:
        _LOGGER.exception("API request %s %s failed", request.method, request.path)
        return _error(500, "internal_error", "the bridge could not answer; see its log")


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json(loads=json.loads)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _BadRequest("the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise _BadRequest("the body must be a JSON object")
    return data


class _BadRequest(Exception):
    pass


def _who(data: dict[str, Any], request: web.Request) -> str:
    who = data.get("who", "api")
    if not isinstance(who, str) or not who.strip() or len(who) > 200:
        raise _BadRequest("'who' must be a non-empty string of at most 200 characters")
    return who.strip()


# --------------------------------------------------------------------------- handlers


async def _health(request: web.Request) -> web.Response:
    bridge = request.app[_BRIDGE]
    return _json({"status": "ok" if bridge.running else "starting", "version": __version__})


async def _openapi(request: web.Request) -> web.Response:
    return _json(OPENAPI)


async def _info(request: web.Request) -> web.Response:
    return _json(request.app[_BRIDGE].info())


async def _devices(request: web.Request) -> web.Response:
    return _json({"devices": request.app[_BRIDGE].devices()})


async def _device(request: web.Request) -> web.Response:
    bridge = request.app[_BRIDGE]
    device_id = request.match_info["device_id"]
    if device_id not in bridge.device_bus:
        return _error(404, "unknown_device", f"no device '{device_id}'")
    return _json(bridge.device(device_id))


async def _command(request: web.Request) -> web.Response:
    bridge = request.app[_BRIDGE]
    device_id = request.match_info["device_id"]
    if device_id not in bridge.device_bus:
        return _error(404, "unknown_device", f"no device '{device_id}'")
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
        return _error(400, "bad_request", str(exc))
    bus = bridge.device_bus[device_id]
    by = f"{who} ({request.remote or 'unknown'})"
    try:
        if isinstance(setpoint, str):
            result = await bus.write_setpoint(device_id, setpoint, number, who=by)
        else:
            result = await bus.command(device_id, str(command), who=by)
    except CommandRefused as exc:
        return _error(409, "refused", str(exc), reason=exc.reason.value)
    except BusError as exc:
        return _error(503, "bus_unavailable", str(exc))
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
        data = await _body(request) if request.can_read_body else {}
        who = _who(data, request)
    except _BadRequest as exc:
        return _error(400, "bad_request", str(exc))
    alarm_id = request.match_info["alarm_id"]
    try:
        events = await bridge.acknowledge(alarm_id, f"{who} ({request.remote or 'unknown'})")
    except UnknownAlarm:
        return _error(404, "unknown_alarm", f"no open alarm '{alarm_id}'")
    return _json({"acknowledged": alarm_id, "events": [e.as_dict() for e in events]})


_MAX_LIMIT = 1000


def _number(query: Any, name: str) -> float | None:
    text = query.get(name)
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise _BadRequest(f"'{name}' must be a number") from None
    if not math.isfinite(value):
        raise _BadRequest(f"'{name}' must be a finite number")
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
                raise _BadRequest(f"unknown event type '{name}'") from None
    after = _number(query, "after")
    return {
        "device_id": query.get("device_id"),
        "types": types,
        "since": _number(query, "since"),
        "until": _number(query, "until"),
        "after_seq": int(after) if after is not None else None,
    }


async def _events(request: web.Request) -> web.Response:
    bridge = request.app[_BRIDGE]
    try:
        filters = _filters(request)
        limit = _number(request.query, "limit")
        if limit is not None and not 1 <= limit <= _MAX_LIMIT:
            raise _BadRequest(f"'limit' must be between 1 and {_MAX_LIMIT}")
    except _BadRequest as exc:
        return _error(400, "bad_request", str(exc))
    events = await bridge.store.query(**filters, limit=int(limit or 100))
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
        return _error(400, "bad_request", str(exc))
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
    pump = asyncio.create_task(client.pump())
    try:
        async for message in socket:
            if message.type is WSMsgType.TEXT and message.data.strip() == '{"type": "ping"}':
                client.offer({"type": "pong"})
    finally:
        clients.discard(client)
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await pump
    return socket


def broadcast(app: web.Application, message: dict[str, Any]) -> None:
    """Offer a message to every connected client."""
    for client in list(app[_HUB].clients):
        client.offer(message)


async def close_clients(app: web.Application) -> None:
    """Close every WebSocket, so that the server can stop without waiting for them."""
    for client in list(app[_HUB].clients):
        await client.socket.close(code=1001, message=b"bridge stopping")


def create_app(bridge: Bridge) -> web.Application:
    """The aiohttp application of API v1."""
    app = web.Application(middlewares=[_errors, _auth], client_max_size=64 * 1024)
    app[_BRIDGE] = bridge
    app[_HUB] = Hub()
    app.router.add_get("/api/v1/health", _health)
    app.router.add_get("/api/v1/openapi.json", _openapi)
    app.router.add_get("/api/v1/info", _info)
    app.router.add_get("/api/v1/devices", _devices)
    app.router.add_get("/api/v1/devices/{device_id}", _device)
    app.router.add_post("/api/v1/devices/{device_id}/commands", _command)
    app.router.add_get("/api/v1/alarms", _alarms)
    app.router.add_post("/api/v1/alarms/{alarm_id}/acknowledge", _acknowledge)
    app.router.add_get("/api/v1/events", _events)
    app.router.add_get("/api/v1/events.csv", _events_csv)
    app.router.add_get("/api/v1/ws", _websocket)
    return app
