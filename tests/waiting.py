"""Waiting on conditions, never on the clock: shared by every test folder."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable


async def wait_for(
    predicate: Callable[[], bool | Awaitable[bool]],
    timeout: float = 10.0,  # noqa: ASYNC109 - a bound on polling, not a cancel scope
    interval: float = 0.01,
    what: str = "",
) -> None:
    """Return as soon as ``predicate()`` is true; fail after ``timeout`` seconds.

    Tests wait for what they expect to happen instead of sleeping a guessed time, so they
    are as fast as the code allows and do not flake on a slow machine. ``predicate`` may be
    a coroutine function (for example one that reads over Modbus).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = predicate()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if loop.time() >= deadline:
            raise AssertionError(f"condition not met within {timeout} s: {what or predicate!r}")
        await asyncio.sleep(interval)
