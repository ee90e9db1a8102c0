"""Fixtures for the relay tests: the PKI, a running broker, a subscriber, relays on a store."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from electrical_safety_bridge.relay.core import Relay
from electrical_safety_bridge.relay.relay_settings import RELAY_SCHEMA, relay_config
from electrical_safety_bridge.relay.remote_commands import CommandTarget
from electrical_safety_bridge.safety.events import BridgeEvent
from electrical_safety_bridge.storage.event_store import AsyncEventStore, StoredEvent

from .helpers import Broker, Collector, Pki, make_pki

SITE = "home-1"


def join_store_threads() -> None:
    """Wait for closed event stores' worker threads to end (they stop without being joined)."""
    for thread in threading.enumerate():
        if thread.name.startswith("event-store"):
            thread.join(5)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
async def broker(tmp_path: Path, pki: Pki) -> AsyncIterator[Broker]:
    broker = Broker(tmp_path / "broker", pki)
    await broker.start()
    try:
        yield broker
    finally:
        await broker.kill()


@pytest.fixture
async def collector(broker: Broker) -> AsyncIterator[Collector]:
    collector = Collector(broker)
    await collector.start()
    try:
        yield collector
    finally:
        await collector.stop()


def parse_relay(section: dict[str, Any]) -> Any:
    problems: list[str] = []
    config = relay_config(RELAY_SCHEMA({"site": SITE, **section}), None, problems)
    assert not problems, problems
    return config


@dataclass
class Rig:
    """An event store and a relay on it, wired the way the bridge wires them."""

    store: AsyncEventStore
    relay: Relay
    data_dir: Path

    async def emit(self, event: BridgeEvent) -> StoredEvent:
        stored = await self.store.append(event)
        self.relay.offer(stored)
        return stored

    async def emit_many(self, events: Iterable[BridgeEvent]) -> list[StoredEvent]:
        stored = await self.store.append_many(events)
        for one in stored:
            self.relay.offer(one)
        return stored

    async def stored(self) -> list[StoredEvent]:
        found: list[StoredEvent] = []
        while True:
            page = await self.store.query(after_seq=found[-1].seq if found else 0, limit=1000)
            if not page:
                return found
            found.extend(page)


@dataclass
class Rigs:
    tmp_path: Path
    made: list[Rig] = field(default_factory=list)

    async def make(
        self,
        section: dict[str, Any],
        *,
        name: str = "bridge",
        target: CommandTarget | None = None,
        host: Any = None,
        start: bool = True,
        clock: Callable[[], float] | None = None,
    ) -> Rig:
        data_dir = self.tmp_path / name
        data_dir.mkdir(parents=True, exist_ok=True)
        store = await AsyncEventStore.open(data_dir / "events.sqlite3")
        relay = Relay(
            parse_relay(section),
            data_dir=data_dir,
            store=store,
            site=SITE,
            host=host,
            target=target,
            **({"clock": clock} if clock is not None else {}),
        )
        rig = Rig(store, relay, data_dir)
        self.made.append(rig)
        if start:
            await relay.start()
        return rig

    async def close(self, rig: Rig) -> None:
        await rig.relay.stop()
        await rig.store.close()

    async def cleanup(self) -> None:
        for rig in self.made:
            await self.close(rig)
        join_store_threads()  # every store is closed now: their threads are ending


@pytest.fixture
async def rigs(tmp_path: Path) -> AsyncIterator[Rigs]:
    rigs = Rigs(tmp_path)
    try:
        yield rigs
    finally:
        await rigs.cleanup()
