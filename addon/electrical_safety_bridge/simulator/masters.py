"""Other masters: Modbus TCP clients reading through the bridge's gateway back to back.

A SCADA tool or a second integration polling as fast as it can is what the bus scheduler must
hold its alarm deadlines against (bus/scheduler.py). Tests and ``bench/alarm_under_load.py``
start them with :func:`other_masters` and read how many answers each one got.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.framer import FramerType


@contextlib.asynccontextmanager
async def other_masters(
    port: int, unit: int, clients: int, *, host: str = "127.0.0.1", response_timeout: float = 30.0
) -> AsyncIterator[list[int]]:
    """``clients`` Modbus TCP clients reading 4 holding registers of ``unit`` back to back.

    Yields the answers each client has had so far (a live list); the clients stop and
    disconnect when the block ends.
    """
    answers = [0] * clients
    stop = asyncio.Event()

    async def one(index: int) -> None:
        client = AsyncModbusTcpClient(
            host, port=port, framer=FramerType.SOCKET, timeout=response_timeout, retries=0
        )
        await client.connect()
        try:
            while not stop.is_set():
                await client.read_holding_registers(0, count=4, device_id=unit)
                answers[index] += 1
        finally:
            client.close()

    tasks = [asyncio.create_task(one(i)) for i in range(clients)]
    try:
        yield answers
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
