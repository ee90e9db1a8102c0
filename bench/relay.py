"""The relay's figures against a local Mosquitto: throughput, backlog drain, alarm latency.

design.md and the relay issue hold the relay to three figures, each measured here with the
outbox on (SQLite, fsynced) and a real broker (``mosquitto`` on a free loopback port, plain
TCP, no persistence), the relay publishing QoS 1 exactly as the bridge runs it:

* ``relay_sustained_events_per_s``: events stored in the event store (chunks, as a burst of
  alarms would be) and offered to the relay as the bridge does after each durable append,
  from the first offer to the last event received by a subscriber in another process.
  Goal ≥ 2,000 events/s.
* ``relay_backlog_drain_s``: with the broker down, a backlog of events is stored and
  committed to the outbox; the broker is then started, and the clock runs from the broker
  listening to the outbox owing the broker nothing (every row PUBACKed). Goal ≤ 60 s for
  100,000 events.
* ``relay_alarm_latency_p99_s``: alarms stored one at a time at a steady pace; latency is the
  wall-clock time from the store's append returning to the subscriber process receiving the
  message (same machine, same clock). Goal p99 ≤ 0.5 s.

The subscriber runs in its own process (this file with ``--subscriber``) so that reading
messages does not compete with the relay for the event loop. Each figure is printed as
``name: value`` with its unit in the name, goals included. Nothing is asserted on time.

Run it with ``PYTHONPATH=addon .venv/bin/python bench/relay.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final, TextIO

# Run as a script (``python bench/relay.py``), Python puts bench/ itself on the path, not
# the repository root that the shared ``bench._common`` is imported from.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import READY_S, Mosquitto, percentile
from electrical_safety_bridge.common.enums import EventType
from electrical_safety_bridge.relay.core import Relay
from electrical_safety_bridge.relay.relay_settings import RELAY_SCHEMA, relay_config
from electrical_safety_bridge.safety.events import BridgeEvent
from electrical_safety_bridge.storage.event_store import AsyncEventStore

GOAL_EVENTS_PER_S: Final = 2000
GOAL_DRAIN_S: Final = 60
GOAL_LATENCY_P99_S: Final = 0.5
SITE: Final = "bench"
TOPIC: Final = f"electrical_safety/{SITE}/#"
_ID = re.compile(rb'"id":"([0-9a-f]+)"')
HERE: Final = Path(__file__).resolve()


class Subscriber:
    """A subscriber in another process; returns each distinct event id's receive time."""

    def __init__(self, port: int, expected: int, out: Path) -> None:
        self.port = port
        self.expected = expected
        self.out = out
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(HERE),
            "--subscriber",
            str(self.port),
            str(self.expected),
            str(self.out),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), READY_S * 3)
        if line.strip() != b"ready":
            raise RuntimeError(f"the subscriber did not start: {line!r}")

    async def result(self, timeout: float) -> dict[str, float]:  # noqa: ASYNC109
        assert self.process is not None
        await asyncio.wait_for(self.process.wait(), timeout)
        received: dict[str, float] = {}
        for line in self.out.read_text().splitlines():
            event_id, at = line.split()
            received.setdefault(event_id, float(at))
        return received


def subscribe(port: int, expected: int, out: Path) -> int:
    """The subscriber process: count distinct event ids until ``expected``, then write them."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    seen: dict[bytes, float] = {}
    done = False

    def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        nonlocal done
        at = time.time()
        if b"/event/" not in message.topic.encode():
            return
        match = _ID.search(message.payload)
        if match and match[1] not in seen:
            seen[match[1]] = at
            if len(seen) >= expected:
                done = True

    def on_subscribe(*_: object) -> None:
        print("ready", flush=True)

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-sub-{time.monotonic_ns()}")
    client.on_message = on_message
    client.on_subscribe = on_subscribe
    client.on_connect = lambda c, *_: c.subscribe(TOPIC, qos=1)
    client.connect("127.0.0.1", port)
    deadline = time.monotonic() + 900
    while not done and time.monotonic() < deadline:
        client.loop(timeout=0.05)
    client.disconnect()
    out.write_text("".join(f"{k.decode()} {v}\n" for k, v in seen.items()))
    return 0 if done else 1


def alarm(device: str, n: int) -> BridgeEvent:
    now = time.time()
    return BridgeEvent(
        EventType.ALARM_RAISED,
        now,
        device_id=device,
        channel="residual_current",
        data={
            "id": f"{device}-{n}-{time.monotonic_ns()}",
            "kind": "alarm",
            "device_id": device,
            "channel": "residual_current",
            "raised_at": now,
            "value_at_alarm": 350,
            "detail": "residual current 350 mA over the 300 mA setpoint",
            "active": True,
            "acknowledged": False,
            "acknowledged_by": None,
            "acknowledged_at": None,
        },
    )


class Rig:
    """An event store and a relay on it, in a fresh folder."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port
        self.store: AsyncEventStore | None = None
        self.relay: Relay | None = None

    async def __aenter__(self) -> Rig:
        self.folder.mkdir(parents=True)
        problems: list[str] = []
        config = relay_config(
            RELAY_SCHEMA(
                {
                    "site": SITE,
                    "mqtt": {
                        "host": "127.0.0.1",
                        "port": self.port,
                        "reconnect_min": 0.05,
                        "reconnect_max": 0.25,
                    },
                    "outbox_max_mb": 512,
                    "telemetry_interval": 0,
                }
            ),
            None,
            problems,
        )
        assert config is not None and not problems, problems
        self.store = await AsyncEventStore.open(self.folder / "events.sqlite3")
        self.relay = Relay(config, data_dir=self.folder, store=self.store, site=SITE)
        await self.relay.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.relay is not None:
            await self.relay.stop()
        if self.store is not None:
            await self.store.close()

    async def burst(self, count: int, chunk: int, devices: int = 16) -> float:
        """Store and offer ``count`` alarms in chunks; returns the time of the first offer."""
        assert self.store is not None and self.relay is not None
        first = 0.0
        made = 0
        while made < count:
            size = min(chunk, count - made)
            events = [alarm(f"d{(made + i) % devices}", made + i) for i in range(size)]
            stored = await self.store.append_many(events)
            if not made:
                first = time.time()
            for one in stored:
                self.relay.offer(one)
            made += size
            await asyncio.sleep(0)
        return first

    def owed(self) -> int:
        assert self.relay is not None
        return sum(self.relay.outbox.sync.counts().get("mqtt", {}).values())


async def measure(args: argparse.Namespace, out: TextIO) -> None:
    with tempfile.TemporaryDirectory(prefix="relay-bench-") as tmp:
        folder = Path(tmp)
        broker = Mosquitto(folder)
        await broker.start()
        try:
            # 1. Sustained throughput, end to end.
            sub = Subscriber(broker.port, args.events, folder / "throughput.txt")
            await sub.start()
            async with Rig(folder / "throughput", broker.port) as rig:
                first = await rig.burst(args.events, args.chunk)
                received = await sub.result(timeout=600)
            last = max(received.values())
            rate = len(received) / max(last - first, 1e-9)
            print(f"relay_throughput_events_count: {len(received)}", file=out)
            print(f"relay_sustained_events_per_s: {rate:.0f}", file=out)
            print(f"goal_relay_sustained_events_per_s: {GOAL_EVENTS_PER_S}", file=out)

            # 2. A backlog built while the broker is down, drained when it returns.
            await broker.stop()
            async with Rig(folder / "backlog", broker.port) as rig:
                assert rig.relay is not None and rig.relay.mqtt is not None
                fill_start = time.perf_counter()
                await rig.burst(args.backlog, 1000)
                await rig.relay.flush()
                fill = time.perf_counter() - fill_start
                assert rig.owed() == args.backlog, rig.owed()
                await broker.start()
                start = time.perf_counter()
                deadline = start + 900
                metrics = rig.relay.outbox.metrics  # counters only: no query while it drains
                while metrics.acked < args.backlog and time.perf_counter() < deadline:  # noqa: ASYNC110
                    await asyncio.sleep(0.01)  # sampling a counter, bounded above
                drain = time.perf_counter() - start
                owed = rig.owed()
                published = rig.relay.mqtt.published
            print(f"relay_backlog_events_count: {args.backlog}", file=out)
            print(f"relay_backlog_fill_s: {fill:.2f}", file=out)
            print(f"relay_backlog_drain_s: {drain:.2f}", file=out)
            rate = args.backlog / drain if drain > 0 else float("inf")
            print(f"relay_backlog_drain_events_per_s: {rate:.0f}", file=out)
            print(f"relay_backlog_published_count: {published}", file=out)
            print(f"relay_backlog_left_count: {owed}", file=out)
            print(f"goal_relay_backlog_drain_s: {GOAL_DRAIN_S}", file=out)

            # 3. Alarm latency, one alarm at a time.
            sub = Subscriber(broker.port, args.alarms, folder / "latency.txt")
            await sub.start()
            stored_at: dict[str, float] = {}
            async with Rig(folder / "latency", broker.port) as rig:
                assert rig.store is not None and rig.relay is not None
                for n in range(args.alarms):
                    stored = await rig.store.append(alarm(f"d{n % 16}", n))
                    stored_at[stored.id] = time.time()
                    rig.relay.offer(stored)
                    await asyncio.sleep(args.alarm_interval)  # the pace of alarms, not a wait
                received = await sub.result(timeout=120)
            latencies = [received[i] - t for i, t in stored_at.items() if i in received]
            print(f"relay_alarm_latency_count: {len(latencies)}", file=out)
            print(f"relay_alarm_latency_p50_s: {percentile(latencies, 0.5):.4f}", file=out)
            print(f"relay_alarm_latency_p99_s: {percentile(latencies, 0.99):.4f}", file=out)
            print(f"relay_alarm_latency_max_s: {max(latencies):.4f}", file=out)
            print(f"goal_relay_alarm_latency_p99_s: {GOAL_LATENCY_P99_S}", file=out)
        finally:
            await broker.stop()


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    """Run the three measurements and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=20_000, help="throughput burst size")
    parser.add_argument("--chunk", type=int, default=100, help="events per store append")
    parser.add_argument("--backlog", type=int, default=100_000, help="backlog to drain")
    parser.add_argument("--alarms", type=int, default=500, help="alarms for the latency")
    parser.add_argument("--alarm-interval", type=float, default=0.01, help="seconds between")
    parser.add_argument("--subscriber", nargs=3, metavar=("PORT", "EXPECTED", "OUT"))
    args = parser.parse_args(argv)
    if args.subscriber:
        port, expected, path = args.subscriber
        return subscribe(int(port), int(expected), Path(path))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(measure(args, out))
    # Closed event stores' worker threads end on their own; let them, before returning.
    for thread in threading.enumerate():
        if thread.name.startswith("event-store"):
            thread.join(5)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
