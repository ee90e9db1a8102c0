"""The async client of the bridge's API v1, on the caller's aiohttp session.

It speaks the contract of ``electrical_safety_bridge.common``: answers parse into its
models, and an error answer is raised as the same ``common.errors`` class the bridge
raised (a refusal keeps its machine-readable reason, such as ``alarm_active``). It checks
the bridge's schema on every connect, over REST and on the WebSocket's snapshot, and raises
``SchemaMismatch`` when the two do not overlap.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from ..common.errors import (
    BridgeAuthenticationError,
    BridgeConnectionError,
    BridgeError,
    BridgeResponseError,
    SchemaMismatch,
    error_from_answer,
)
from ..common.models import BridgeData, BridgeEvent, BridgeInfo, Snapshot
from ..common.proof import InspectionDue, InspectionRecord, SelfTestRecord, SelfTestScheduleEntry
from ..common.schema import (
    MIN_SUPPORTED_SCHEMA_VERSION,
    SCHEMA_HEADER,
    SCHEMA_VERSION,
    schema_problem,
)
from ..common.site import Finding, Site
from ..common.trends import ChannelTrend
from ..common.workflow import Hazard, HazardStatistics, Lockout, hazards_from

REQUEST_TIMEOUT = 15.0
#: A report draws its charts and prints its PDF on the bridge: a few seconds, more on a
#: small board with many detectors.
REPORT_TIMEOUT = 120.0
#: A command waits behind the bus's transaction in flight and reads the device back.
COMMAND_TIMEOUT = 30.0
#: A self-test: the write, then up to the standard's 40 s for the alarm (temperature).
SELF_TEST_TIMEOUT = 60.0
WS_HEARTBEAT = 30.0
WS_MAX_MESSAGE = 4 * 1024 * 1024


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
        # The schema this client speaks: a bridge that no longer serves it says so.
        return {"Authorization": f"Bearer {self._token}", SCHEMA_HEADER: str(SCHEMA_VERSION)}

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
            raise error_from_answer(status, None)
        try:
            data = json.loads(text) if text else None
        except ValueError:
            raise BridgeResponseError(f"HTTP {status}: not JSON") from None
        if status >= 400:
            raise error_from_answer(
                status, data if isinstance(data, dict) else {"message": text[:200]}
            )
        return data

    async def info(self) -> dict[str, Any]:
        """The bridge's id, version, schema and buses; ``SchemaMismatch`` when this client
        and the bridge speak contracts that do not overlap."""
        data = await self._request("GET", "/info")
        if not isinstance(data, dict):
            raise BridgeResponseError("info is not an object")
        check_schema(data)
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

    async def bridge_info(self) -> BridgeInfo:
        """``info`` parsed."""
        try:
            return BridgeInfo.from_dict(await self.info())
        except ValueError as err:
            raise BridgeResponseError(str(err)) from err

    async def site(self) -> Site:
        """The site the bridge serves (a bridge before sites answers 404, raised as a
        ``BridgeResponseError`` starting ``HTTP 404``)."""
        data = await self._request("GET", "/site")
        if not isinstance(data, dict):
            raise BridgeResponseError("site is not an object")
        try:
            return Site.from_dict(data)
        except ValueError as err:
            raise BridgeResponseError(f"site: {err}") from err

    async def compliance(self) -> tuple[Finding, ...]:
        """The compliance rules' findings for the site and its detectors."""
        data = await self._request("GET", "/compliance")
        findings = data.get("findings") if isinstance(data, dict) else None
        if not isinstance(findings, list):
            raise BridgeResponseError("compliance has no list of findings")
        try:
            return tuple(Finding.from_dict(raw) for raw in findings)
        except (ValueError, AttributeError) as err:
            raise BridgeResponseError(f"a compliance finding cannot be read: {err}") from err

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

    async def hazards(
        self, *, state: str | None = None, device_id: str | None = None
    ) -> list[Hazard]:
        """Hazards, oldest first: by default those not eliminated yet; ``state`` picks one
        state ("eliminated" for the record)."""
        params: list[tuple[str, str]] = []
        if state is not None:
            params.append(("state", state))
        if device_id is not None:
            params.append(("device_id", device_id))
        data = await self._request("GET", "/hazards", params=params)
        if not isinstance(data, dict) or not isinstance(data.get("hazards"), list):
            raise BridgeResponseError("hazards is not a list")
        try:
            return list(hazards_from(data))
        except ValueError as err:
            raise BridgeResponseError(str(err)) from err

    async def acknowledge_hazard(self, hazard_id: str, who: str) -> Hazard:
        """Acknowledge a hazard (and the alarm that opened it)."""
        return await self._hazard_step(f"/hazards/{hazard_id}/acknowledge", {"who": who})

    async def eliminate_hazard(self, hazard_id: str, who: str, note: str) -> Hazard:
        """Eliminate a hazard with a note of the cause and the fix; refused
        (``condition_persists``) while a fresh read still shows the condition."""
        return await self._hazard_step(
            f"/hazards/{hazard_id}/eliminate", {"who": who, "note": note}, COMMAND_TIMEOUT
        )

    async def _hazard_step(
        self,
        path: str,
        body: Mapping[str, Any],
        timeout: float = REQUEST_TIMEOUT,  # noqa: ASYNC109 - a per-request bound
    ) -> Hazard:
        data = await self._request("POST", path, body=body, timeout=timeout)
        hazard = data.get("hazard") if isinstance(data, dict) else None
        if not isinstance(hazard, dict):
            raise BridgeResponseError("a hazard step's answer has no hazard")
        try:
            return Hazard.from_dict(hazard)
        except ValueError as err:
            raise BridgeResponseError(str(err)) from err

    async def statistics(self) -> HazardStatistics:
        """Open hazards, alarms not handled, this month's counts and mean times."""
        data = await self._request("GET", "/statistics")
        if not isinstance(data, dict):
            raise BridgeResponseError("statistics is not an object")
        return HazardStatistics.from_dict(data)

    async def early_warnings(self) -> list[ChannelTrend]:
        """Each watched channel's baseline and whether its early warning is on."""
        data = await self._request("GET", "/early-warnings")
        channels = data.get("channels") if isinstance(data, dict) else None
        if not isinstance(channels, list):
            raise BridgeResponseError("early-warnings has no list of channels")
        try:
            return [ChannelTrend.from_dict(raw) for raw in channels]
        except (ValueError, AttributeError) as err:
            raise BridgeResponseError(f"an early-warning channel cannot be read: {err}") from err

    async def lock_out(
        self, device_id: str, who: str, why: str, until: float | None = None
    ) -> Lockout:
        """Lock a device out for maintenance: close is refused until it is lifted (or
        ``until``, seconds since the epoch, passes)."""
        body: dict[str, Any] = {"who": who, "why": why}
        if until is not None:
            body["until"] = until
        data = await self._request("POST", f"/devices/{device_id}/lockout", body=body)
        lockout = data.get("lockout") if isinstance(data, dict) else None
        if not isinstance(lockout, dict):
            raise BridgeResponseError("a lock-out's answer has no lockout")
        try:
            return Lockout.from_dict(lockout)
        except ValueError as err:
            raise BridgeResponseError(str(err)) from err

    async def lift_lock_out(self, device_id: str, who: str) -> None:
        """Lift a device's lock-out (harmless when there is none)."""
        await self._request("POST", f"/devices/{device_id}/lockout/lift", body={"who": who})

    # ------------------------------------------------------------------ proof

    async def self_tests(
        self,
        *,
        device_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> list[SelfTestRecord]:
        """Self-test records, newest first."""
        params: list[tuple[str, str]] = [
            (key, str(value))
            for key, value in (("device_id", device_id), ("since", since), ("until", until))
            if value is not None
        ]
        data = await self._request("GET", "/self-tests", params=params)
        return self._parsed(data, "self_tests", SelfTestRecord.from_dict)

    async def self_test_schedule(self) -> list[SelfTestScheduleEntry]:
        """Each device's self-test schedule and next due time."""
        data = await self._request("GET", "/self-tests/schedule")
        return self._parsed(data, "schedule", SelfTestScheduleEntry.from_dict)

    async def run_self_test(self, device_id: str, who: str) -> SelfTestRecord:
        """Run a device's self-test now; its judged record (pass, fail, no response)."""
        data = await self._request(
            "POST",
            "/self-tests",
            body={"device_id": device_id, "who": who},
            timeout=SELF_TEST_TIMEOUT,
        )
        record = data.get("self_test") if isinstance(data, dict) else None
        if not isinstance(record, dict):
            raise BridgeResponseError("a self-test's answer has no self_test")
        try:
            return SelfTestRecord.from_dict(record)
        except ValueError as err:
            raise BridgeResponseError(str(err)) from err

    async def inspections(self, *, kind: str | None = None) -> list[InspectionRecord]:
        """Inspection records, newest first."""
        params = [("kind", kind)] if kind is not None else []
        data = await self._request("GET", "/inspections", params=params)
        return self._parsed(data, "inspections", InspectionRecord.from_dict)

    async def inspection_checklists(self) -> list[dict[str, Any]]:
        """The checklists to fill in (items with their ids and texts in en / zh-Hans / ja)."""
        data = await self._request("GET", "/inspections", params={"limit": 1})
        checklists = data.get("checklists") if isinstance(data, dict) else None
        if not isinstance(checklists, list):
            raise BridgeResponseError("checklists is not a list")
        return [c for c in checklists if isinstance(c, dict)]

    async def record_inspection(
        self, kind: str, items: list[Mapping[str, Any]], note: str, who: str
    ) -> InspectionRecord:
        """Record an inspection: every item of the kind's checklist with its outcome."""
        data = await self._request(
            "POST",
            "/inspections",
            body={"kind": kind, "items": list(items), "note": note, "who": who},
        )
        record = data.get("inspection") if isinstance(data, dict) else None
        if not isinstance(record, dict):
            raise BridgeResponseError("an inspection's answer has no inspection")
        try:
            return InspectionRecord.from_dict(record)
        except ValueError as err:
            raise BridgeResponseError(str(err)) from err

    async def inspections_due(self) -> list[InspectionDue]:
        """When each tracked inspection is next due."""
        data = await self._request("GET", "/inspections/due")
        return self._parsed(data, "due", InspectionDue.from_dict)

    @staticmethod
    def _parsed[T](data: Any, key: str, parse: Callable[[Mapping[str, Any]], T]) -> list[T]:
        items = data.get(key) if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise BridgeResponseError(f"{key} is not a list")
        try:
            return [parse(item) for item in items if isinstance(item, dict)]
        except ValueError as err:
            raise BridgeResponseError(str(err)) from err

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

    async def report(self, period: str | None = None, language: str = "en") -> dict[str, Any]:
        """The safety report of a month (``YYYY-MM``; the last whole one by default) as
        JSON, with its texts' language recorded."""
        data = await self._request(
            "GET",
            "/report",
            params=_report_params(period, "json", language),
            timeout=REPORT_TIMEOUT,
        )
        if not isinstance(data, dict):
            raise BridgeResponseError("the report is not a JSON object")
        return data

    async def report_file(
        self, period: str | None = None, fmt: str = "pdf", language: str = "en"
    ) -> bytes:
        """The safety report of a month as a file: ``fmt`` ``html`` or ``pdf``."""
        try:
            async with self._session.get(
                f"{self.base_url}/report",
                params=_report_params(period, fmt, language),
                headers=self._headers,
                timeout=aiohttp.ClientTimeout(total=REPORT_TIMEOUT),
            ) as response:
                body = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError) as err:
            raise BridgeConnectionError(str(err) or type(err).__name__) from err
        if status >= 400:
            try:
                answer = json.loads(body)
            except ValueError:
                answer = {"message": body[:200].decode(errors="replace")}
            raise error_from_answer(status, answer)
        return body

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
            if err.status == 400:
                # The only 400 a bridge gives a WebSocket handshake: this client is older
                # than it serves (ErrorCode.CLIENT_TOO_OLD).
                raise SchemaMismatch("bridge_too_new", None, None) from err
            raise BridgeConnectionError(str(err)) from err
        except (aiohttp.ClientError, TimeoutError, OSError) as err:
            raise BridgeConnectionError(str(err) or type(err).__name__) from err
        try:
            yield socket
        finally:
            await socket.close()


def check_schema(raw: Mapping[str, Any]) -> None:
    """Raise ``SchemaMismatch`` unless the bridge that sent ``raw`` (its info, or a
    snapshot) speaks a contract this client understands."""
    info = raw.get("info") if raw.get("type") == "snapshot" else raw
    source = info if isinstance(info, Mapping) else raw
    schema = raw.get("schema_version", source.get("schema_version"))
    minimum = raw.get("min_supported_schema_version", source.get("min_supported_schema_version"))
    server = schema if isinstance(schema, int) and not isinstance(schema, bool) else None
    server_min = minimum if isinstance(minimum, int) and not isinstance(minimum, bool) else None
    problem = schema_problem(
        server,
        server_min,
        schema_version=SCHEMA_VERSION,
        min_supported=MIN_SUPPORTED_SCHEMA_VERSION,
    )
    if problem is not None:
        raise SchemaMismatch(problem, server, server_min)


def parse_snapshot(raw: Mapping[str, Any]) -> Snapshot:
    """A ``snapshot`` message, after checking its schema."""
    check_schema(raw)
    try:
        return Snapshot.from_dict(raw)
    except ValueError as err:
        raise BridgeResponseError(f"snapshot: {err}") from err


__all__ = [
    "BridgeAuthenticationError",
    "BridgeClient",
    "BridgeConnectionError",
    "BridgeError",
    "BridgeResponseError",
    "SchemaMismatch",
    "check_schema",
    "parse_snapshot",
]


def _report_params(period: str | None, fmt: str, language: str) -> dict[str, str]:
    params = {"format": fmt, "language": language}
    if period is not None:
        params["period"] = period
    return params
