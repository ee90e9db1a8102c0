"""A relay in its own process, for the tests that kill it: ``python -m tests.relay.relay_process``.

It is wired as the bridge wires it: every event is appended to the event store (durable) and
then offered to the relay. Arguments are one JSON object: ``data_dir``, the ``relay`` section,
and ``burst`` (how many alarm events to store, in chunks of ``chunk``, round-robin over
``devices``). It prints ``started``, ``stored <seq>`` after each chunk and ``burst done``; on
SIGTERM it stops cleanly and prints ``stopped``.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

from electrical_safety_bridge.relay.core import Relay
from electrical_safety_bridge.relay.relay_settings import RELAY_SCHEMA, relay_config
from electrical_safety_bridge.storage.event_store import AsyncEventStore

from .helpers import alarm


async def main(spec: dict[str, Any]) -> int:
    data_dir = Path(spec["data_dir"])
    problems: list[str] = []
    config = relay_config(RELAY_SCHEMA(spec["relay"]), None, problems)
    assert config is not None and not problems, problems
    store = await AsyncEventStore.open(data_dir / "events.sqlite3")
    relay = Relay(config, data_dir=data_dir, store=store, site="unused")
    await relay.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    print("started", flush=True)
    devices = spec.get("devices", ["d1"])
    chunk = int(spec.get("chunk", 5))
    counters = dict.fromkeys(devices, 0)
    burst = int(spec.get("burst", 0))
    made = 0
    while made < burst and not stop.is_set():
        events = []
        for _ in range(min(chunk, burst - made)):
            device = devices[made % len(devices)]
            events.append(alarm(device, counters[device]))
            counters[device] += 1
            made += 1
        stored = await store.append_many(events)
        for one in stored:
            relay.offer(one)
        print(f"stored {stored[-1].seq}", flush=True)
        await asyncio.sleep(0)
    if burst:
        print("burst done", flush=True)
    await stop.wait()
    await relay.stop()
    await store.close()
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    arguments = json.loads(sys.argv[1])
    Path(arguments["data_dir"]).mkdir(parents=True, exist_ok=True)
    raise SystemExit(asyncio.run(main(arguments)))
