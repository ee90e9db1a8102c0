"""The relay as its own process, killed with SIGKILL mid-burst and restarted: nothing lost.

Also the site status: the broker publishes the last will ``offline`` when the process dies,
and the next process says ``online`` again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import sys
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .conftest import SITE
from .helpers import Broker, Collector, wait_for

pytestmark = pytest.mark.usefixtures("socket_enabled")

ROOT = Path(__file__).resolve().parents[2]
BURST = 1000
DEVICES = ["d1", "d2", "d3", "d4"]
START_S = 20.0  # bound on a process importing and starting


@dataclass
class RelayProcess:
    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    async def read(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            self.lines.append(line.decode().strip())


@dataclass
class Launcher:
    tmp_path: Path
    started: list[RelayProcess] = field(default_factory=list)

    async def start(self, spec: dict[str, Any]) -> RelayProcess:
        log = (self.tmp_path / f"relay-{len(self.started)}.log").open("wb")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.relay.relay_process",
            json.dumps(spec),
            cwd=ROOT,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
            env={**os.environ, "PYTHONPATH": f"{ROOT / 'addon'}:{ROOT}", "PYTHONUNBUFFERED": "1"},
        )
        log.close()
        relay = RelayProcess(process)
        relay.reader = asyncio.create_task(relay.read())
        self.started.append(relay)
        await wait_for(lambda: "started" in relay.lines or process.returncode is not None, START_S)
        assert "started" in relay.lines, self.log(len(self.started) - 1)
        return relay

    def log(self, index: int) -> str:
        return (self.tmp_path / f"relay-{index}.log").read_text(errors="replace")

    async def cleanup(self) -> None:
        for relay in self.started:
            if relay.process.returncode is None:
                relay.process.kill()
                await relay.process.wait()
            if relay.reader is not None:
                relay.reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await relay.reader


@pytest.fixture
async def launcher(tmp_path: Path) -> AsyncIterator[Launcher]:
    launcher = Launcher(tmp_path)
    try:
        yield launcher
    finally:
        await launcher.cleanup()


def stored_ids(data_dir: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(data_dir / "events.sqlite3")) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM events ORDER BY seq")]


async def test_sigkill_mid_burst_loses_nothing_and_the_will_says_offline(
    tmp_path: Path, broker: Broker, collector: Collector, launcher: Launcher
) -> None:
    data_dir = tmp_path / "bridge"
    spec = {
        "data_dir": str(data_dir),
        "relay": {"site": SITE, "mqtt": broker.relay_mqtt()},
        "devices": DEVICES,
        "chunk": 5,
    }
    status = f"electrical_safety/{SITE}/status"

    def statuses() -> list[bytes]:
        return [m.payload for m in collector.received if m.topic == status]

    first = await launcher.start({**spec, "burst": BURST})
    await wait_for(lambda: statuses()[-1:] == [b"online"], what="birth message")
    # Kill it mid-burst: some events delivered, more stored, the burst not finished.
    await wait_for(lambda: len(collector.events()) >= 100, what="first deliveries")
    first.process.send_signal(signal.SIGKILL)
    await first.process.wait()
    assert "burst done" not in first.lines, "the burst ended before the kill; make it longer"
    await wait_for(lambda: statuses()[-1:] == [b"offline"], what="last will on SIGKILL")
    offline_will = [m for m in collector.received if m.topic == status][-1]
    assert offline_will.payload == b"offline"

    sent = stored_ids(data_dir)  # every event the store made durable before the kill
    assert 100 <= len(sent) < BURST
    received_before = len({e["id"] for e in collector.events()})

    second = await launcher.start({**spec, "burst": 0})
    await wait_for(lambda: statuses()[-1:] == [b"online"], what="online again")
    await wait_for(
        lambda: {e["id"] for e in collector.events()} >= set(sent),
        timeout=20,
        what="every stored event delivered",
    )
    events = collector.events()
    bodies: dict[str, set[str]] = defaultdict(set)
    for event in events:
        bodies[event["id"]].add(json.dumps(event, sort_keys=True))
    duplicates = len(events) - len(bodies)
    print(
        f"stored (sent) {len(sent)}, received before the kill {received_before},"
        f" received in all {len(events)} messages, {len(bodies)} distinct,"
        f" {duplicates} duplicates"
    )
    assert set(bodies) == set(sent)  # nothing lost, nothing invented
    # A duplicate is the same event: the same id and the very same body.
    assert all(len(versions) == 1 for versions in bodies.values())
    # Per device, first arrivals keep the store's order.
    order = {event_id: index for index, event_id in enumerate(sent)}
    firsts: dict[str, list[int]] = defaultdict(list)
    seen: set[str] = set()
    for event in events:
        if event["id"] not in seen:
            seen.add(event["id"])
            firsts[event["device_id"]].append(order[event["id"]])
    for device, positions in firsts.items():
        assert positions == sorted(positions), device

    second.process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(second.process.wait(), 10) == 0
    assert "stopped" in second.lines
    await wait_for(lambda: statuses()[-1:] == [b"offline"], what="offline on a clean stop")
    assert statuses() == [b"online", b"offline", b"online", b"offline"]
