"""The WebSocket fuzzed (bench/fuzz_websocket.py): a bounded, seeded run against a real
bridge, and the bugs it found kept as regression tests."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from bench._fuzz import FuzzConfig
from bench.fuzz_websocket import fuzz

from .conftest import Running

pytestmark = pytest.mark.usefixtures("socket_enabled")

PUSHED = {"snapshot", "event", "device_state", "status", "hazard"}


async def test_fuzz_websocket_bounded_run() -> None:
    report = await fuzz(FuzzConfig(cases=300, seed=14))
    assert report.cases == 300
    assert report.findings == []
    assert report.counts["answered_pong"] > 0
    assert report.counts["answered_error"] > 0


async def answers(socket: aiohttp.ClientWebSocketResponse, count: int) -> list[dict[str, Any]]:
    """The next ``count`` messages that answer the client (not the bridge's own pushes)."""
    found: list[dict[str, Any]] = []
    async with asyncio.timeout(10):
        while len(found) < count:
            message = await socket.receive_json()
            if message["type"] not in PUSHED:
                found.append(message)
    return found


async def test_a_ping_is_answered_whatever_its_spacing(api: Running) -> None:
    """Before the fix only the exact text '{"type": "ping"}' got a pong."""
    async with api.session.ws_connect(api.url + "/ws", headers=api.auth) as socket:
        for text in ('{"type":"ping"}', ' {"type" : "ping", "id": 1}\n', '{"type": "ping"}'):
            await socket.send_str(text)
        assert await answers(socket, 3) == [{"type": "pong"}] * 3


async def test_a_bad_websocket_message_gets_an_error_message(api: Running) -> None:
    """Before the fix a message the bridge could not act on got silence."""
    async with api.session.ws_connect(api.url + "/ws", headers=api.auth) as socket:
        await socket.send_str("ping")
        await socket.send_str('{"type": "snapshot"}')
        await socket.send_str('{"type": "\\ud800"}')
        await socket.send_bytes(b"\x00")
        await socket.send_str('{"type": "ping"}')
        first, second, third, fourth, pong = await answers(socket, 5)
    assert pong == {"type": "pong"}
    for error in (first, second, third, fourth):
        assert error["type"] == "error"
        assert error["error"] == "bad_request"
    assert "not valid JSON" in first["message"]
    assert "not snapshot" in second["message"]
    assert "lone surrogate" in third["message"]
    assert "binary" in fourth["message"]
