"""Fuzz the WebSocket (``/api/v1/ws``): random and mutated messages from a client.

A real bridge on simulated units (the rig of bench/fuzz_api.py) is sent, over one real
WebSocket, text that is not JSON, JSON that is not an object, objects with no ``type`` or an
unknown one, pings with other spacing or extra keys, lone surrogate escapes, deep nesting,
NaN, binary frames, and messages past the 64 KiB limit.

The oracle: every message gets its answer, in order, within a bound: a ``pong`` to a ping
and an ``error`` message (with ``error`` and a ``message``) to anything else; a message past
the size limit closes the socket with 1009 (message too big), as the limit says; otherwise
the socket stays open, a ping after each case is answered, and ``/health`` still answers.

Run it with ``.venv-bridge/bin/python bench/fuzz_websocket.py --cases 20000``.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, TextIO

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp

from bench._fuzz import (
    FuzzConfig,
    Report,
    fuzz_main,
    mutate_bytes,
    mutate_json,
    nested,
    random_json,
)
from bench.fuzz_api import Running, healthy, running_bridge
from electrical_safety_bridge.common.parsing import unencodable_text

#: One answer may take this long (the bridge pushes its own messages meanwhile).
ANSWER_BOUND_S: Final = 10.0
MAX_MESSAGE_BYTES: Final = 64 * 1024
PING: Final = '{"type": "ping"}'
#: Messages the bridge pushes on its own, skipped while waiting for an answer.
PUSHED: Final = frozenset({"snapshot", "event", "device_state", "status", "hazard"})


def case_message(rng: random.Random) -> tuple[str | bytes, bool]:
    """A message, and whether it is a ping (answered pong, not error)."""
    roll = rng.random()
    if roll < 0.1:
        spacing = rng.choice(("", " ", "\n", "\t "))
        extra = rng.choice(("", ', "id": 7', ', "type2": null'))
        return f'{spacing}{{"type":{spacing}"ping"{extra}}}{spacing}', True
    if roll < 0.3:
        return json.dumps(mutate_json(rng, {"type": "ping"})), False
    if roll < 0.45:
        return json.dumps(random_json(rng)), False
    if roll < 0.6:
        return mutate_bytes(rng, PING.encode()).decode("utf-8", "replace"), False
    if roll < 0.7:
        return rng.randbytes(rng.randint(0, 64)), False
    return rng.choice(
        (
            "",
            " ",
            "ping",
            "null",
            "[]",
            '{"type": "ping", "type": "pong"}',
            '{"type": "\\ud800"}',
            '{"\\udfff": 1}',
            '{"type": NaN}',
            '{"type": 1e400}',
            nested(50_000, "[", "]"),
            nested(40, '{"a":', "}", "1"),
            '{"type": "' + "x" * 60_000 + '"}',
            "x" * (MAX_MESSAGE_BYTES + 10),
            '{"type": "snapshot"}',
            '{"type": "PING"}',
        )
    ), False


def _refuse(literal: str) -> Any:
    raise ValueError(literal)


def _int64(literal: str) -> int:
    value = int(literal)
    if not -(2**63) <= value < 2**63:
        raise ValueError(literal)
    return value


def _finite(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise ValueError(literal)
    return value


def is_ping(message: str | bytes) -> bool:
    """Whether the API's rules make ``message`` a ping: a JSON object (numbers it can hold,
    no lone surrogate) whose ``type`` is ``ping``, whatever else it carries."""
    if isinstance(message, bytes):
        return False
    try:
        data = json.loads(message, parse_constant=_refuse, parse_int=_int64, parse_float=_finite)
    except (ValueError, RecursionError):
        return False
    return isinstance(data, dict) and data.get("type") == "ping" and unencodable_text(data) is None


def _size(message: str | bytes) -> int:
    return len(message.encode() if isinstance(message, str) else message)


async def _next_answer(socket: aiohttp.ClientWebSocketResponse) -> dict[str, Any] | None:
    """The next message that is not one the bridge pushes on its own; None if it closed."""
    while True:
        message = await socket.receive()
        if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            return None
        data: dict[str, Any] = json.loads(message.data)
        if data.get("type") not in PUSHED:
            return data


async def fuzz(config: FuzzConfig) -> Report:
    """``config.cases`` messages over one WebSocket, reconnecting when a case closes it."""
    rng = random.Random(config.seed)
    report = Report("websocket")
    async with running_bridge() as running:
        socket: aiohttp.ClientWebSocketResponse | None = None
        try:
            for _ in range(config.cases):
                if report.enough:
                    break
                if socket is None or socket.closed:
                    socket = await running.session.ws_connect(
                        running.base + "/api/v1/ws", headers=running.auth
                    )
                message, _ = case_message(rng)
                report.cases += 1
                found = len(report.findings)
                closed = await _case(report, running, socket, message, is_ping(message))
                if closed or len(report.findings) > found:
                    # A fresh socket: what is still on the way would answer the next case.
                    await socket.close()
                    socket = None
        finally:
            if socket is not None:
                await socket.close()
    return report


async def _case(
    report: Report,
    running: Running,
    socket: aiohttp.ClientWebSocketResponse,
    message: str | bytes,
    is_ping: bool,
) -> bool:
    """Send one case and a ping, and judge the answers; whether the socket was closed."""
    case = message if isinstance(message, bytes) else message.encode()
    try:
        if isinstance(message, bytes):
            await socket.send_bytes(message)
        else:
            await socket.send_str(message)
        await socket.send_str(PING)
        async with asyncio.timeout(ANSWER_BOUND_S):
            first = await _next_answer(socket)
            if first is None:
                if _size(message) > MAX_MESSAGE_BYTES and socket.close_code == 1009:
                    report.count("closed_too_big")
                else:
                    report.found("closed", case, f"closed with {socket.close_code}")
                return True
            expected = "pong" if is_ping else "error"
            if first.get("type") != expected:
                report.found("wrong_answer", case, f"answered {str(first)[:200]}, not {expected}")
                return False
            if expected == "error" and not (
                isinstance(first.get("message"), str) and first["message"].strip()
            ):
                report.found("unclear_error", case, f"answered {str(first)[:200]}")
            report.count(f"answered_{expected}")
            second = await _next_answer(socket)  # to the ping sent after the case
            if second is None or second.get("type") != "pong":
                report.found("unresponsive", case, f"the ping after it got {second}")
    except TimeoutError:
        report.found("hang", case, f"no answer in {ANSWER_BOUND_S} s")
    except (aiohttp.ClientError, ConnectionError, ValueError) as exc:
        report.found("crash", case, f"{type(exc).__name__}: {exc}"[:300])
    await healthy(report, running, case.decode("utf-8", "replace"))
    return False


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Fuzz and print ``name: value`` lines; exit 1 if anything was found."""
    return fuzz_main(__doc__, fuzz, argv, out, default_cases=5000)


if __name__ == "__main__":
    sys.exit(main())
