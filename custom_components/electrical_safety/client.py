"""A small async client of the bridge's API v1, on Home Assistant's shared aiohttp session.

It speaks plain JSON and raises one exception family, rooted in :class:`BridgeError`, that
says what went wrong in terms the integration acts on: the bridge cannot be reached, it
does not accept the token, or it refused a command (with the bridge's machine-readable
reason, such as ``alarm_active``).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from .models import BridgeData, BridgeEvent

REQUEST_TIMEOUT = 15.0
#: A command waits behind the bus's transaction in flight and reads the device back.
COMMAND_TIMEOUT = 30.0
WS_HEARTBEAT = 30.0
WS_MAX_MESSAGE = 4 * 1024 * 1024


#: The bridge's answers that refuse a request before anything was done, by HTTP status and
#: ``error``; the reason (``alarm_active``, ``storage_failing``…) says why.
_REFUSALS = frozenset(
    {
        *(
            (status, error)
            for status in (404, 409)
            for error in ("refused", "unknown_device", "unknown_alarm")
        ),
        # An acknowledgement the bridge could not record (a full disk) is not done; a
        # command refused for that reason is a 409 "refused" like any other.
        (503, "storage_failing"),
    }
)


class BridgeError(Exception):
    """Base class of every error of this client."""


class BridgeConnectionError(BridgeError):
    """The bridge could not be reached, or the connection broke."""


class BridgeAuthenticationError(BridgeError):
    """The bridge did not accept the token (HTTP 401)."""


class BridgeResponseError(BridgeError):
    """The bridge answered something this client cannot use."""


class BridgeRefusedError(BridgeError):
    """The bridge refused a request before anything was written (HTTP 409/404, or 503
    while it cannot record it)."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class BridgeClient:
    """The REST and WebSocket API of one bridge."""

    def __init__(self, session: aiohttp.ClientSession, host: str, port: int, token: str) -> None:
        self._session = session
        self.host = host
        self.port = port
        self._token = token

    @property
    def base_url(self) -> str:
        """``http://host:port/api/v1`` (an IPv6 literal in brackets)."""
        host = self.host
        try:
            if ipaddress.ip_address(host).version == 6:
                host = f"[{host}]"
        except ValueError:
            pass  # a host name
        return f"http://{host}:{self.port}/api/v1"

    @property
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    async def _request(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int | float] | list[tuple[str, str]] | None = None,
        timeout: float = REQUEST_TIMEOUT,  # noqa: ASYNC109 - a per-request bound
    ) -> Any:
        try:
            async with self._session.request(
                method,
                f"{self.base_url}{path}",
                json=body,
                params=params,
                headers=self._headers,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as response:
                text = await response.text()
                status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError) as err:
            raise BridgeConnectionError(str(err) or type(err).__name__) from err
        if status == 401:
            raise BridgeAuthenticationError("the bridge did not accept the token")
        try:
            data = json.loads(text) if text else None
        except ValueError:
            raise BridgeResponseError(f"HTTP {status}: not JSON") from None
        if isinstance(data, dict) and (status, data.get("error")) in _REFUSALS:
            reason = data.get("reason") or data.get("error")
            raise BridgeRefusedError(str(reason), str(data.get("message") or reason))
        if status >= 400:
            message = data.get("message") if isinstance(data, dict) else None
            raise BridgeResponseError(f"HTTP {status}: {message or text[:200]}")
        return data

    async def info(self) -> dict[str, Any]:
        """The bridge's id, version and buses."""
        data = await self._request("GET", "/info")
        if not isinstance(data, dict):
            raise BridgeResponseError("info is not an object")
        return data

    async def devices(self) -> list[Any]:
        """Every device with its metadata and state."""
        data = await self._request("GET", "/devices")
        devices = data.get("devices") if isinstance(data, dict) else None
        if not isinstance(devices, list):
            raise BridgeResponseError("devices is not a list")
        return devices

    async def data(self) -> BridgeData:
        """The whole picture over REST (set-up, before the WebSocket's snapshot)."""
        info = await self.info()
        devices = await self.devices()
        try:
            return BridgeData.from_parts(info, devices)
        except ValueError as err:
            raise BridgeResponseError(str(err)) from err

    async def command(self, device_id: str, command: str, who: str) -> dict[str, Any]:
        """Run a command; the bridge's result (``outcome``: confirmed, unconfirmed, failed)."""
        return await self._post_command(device_id, {"command": command, "who": who})

    async def set_setpoint(
        self, device_id: str, setpoint: str, value: float, who: str
    ) -> dict[str, Any]:
        """Write a setpoint; the bridge reads it back."""
        return await self._post_command(
            device_id, {"setpoint": setpoint, "value": value, "who": who}
        )

    async def _post_command(self, device_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        data = await self._request(
            "POST", f"/devices/{device_id}/commands", body=body, timeout=COMMAND_TIMEOUT
        )
        if not isinstance(data, dict):
            raise BridgeResponseError("a command result is not an object")
        return data

    async def acknowledge(self, alarm_id: str, who: str) -> dict[str, Any]:
        """Acknowledge an open alarm or wiring fault."""
        data = await self._request("POST", f"/alarms/{alarm_id}/acknowledge", body={"who": who})
        if not isinstance(data, dict):
            raise BridgeResponseError("an acknowledgement is not an object")
        return data

    async def events(
        self,
        *,
        after: int | None = None,
        device_id: str | None = None,
        types: list[str] | None = None,
        since: float | None = None,
        limit: int = 100,
    ) -> list[BridgeEvent]:
        """A page of the event log, oldest first."""
        params: list[tuple[str, str]] = [("limit", str(limit))]
        if after is not None:
            params.append(("after", str(after)))
        if device_id is not None:
            params.append(("device_id", device_id))
        if since is not None:
            params.append(("since", repr(since)))
        params.extend(("type", t) for t in types or ())
        data = await self._request("GET", "/events", params=params)
        events = data.get("events") if isinstance(data, dict) else None
        if not isinstance(events, list):
            raise BridgeResponseError("events is not a list")
        try:
            return [BridgeEvent.from_dict(e) for e in events]
        except ValueError as err:
            raise BridgeResponseError(str(err)) from err

    @asynccontextmanager
    async def websocket(self) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
        """The push channel: a snapshot first, then events and device states."""
        try:
            socket = await self._session.ws_connect(
                f"{self.base_url}/ws",
                headers=self._headers,
                heartbeat=WS_HEARTBEAT,
                max_msg_size=WS_MAX_MESSAGE,
                timeout=aiohttp.ClientWSTimeout(ws_close=10.0),
            )
        except aiohttp.WSServerHandshakeError as err:
            if err.status == 401:
                raise BridgeAuthenticationError("the bridge did not accept the token") from err
            raise BridgeConnectionError(str(err)) from err
        except (aiohttp.ClientError, TimeoutError, OSError) as err:
            raise BridgeConnectionError(str(err) or type(err).__name__) from err
        try:
            yield socket
        finally:
            await socket.close()
