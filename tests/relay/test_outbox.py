"""The outbox on its own: order, durability, acknowledgement, coalescing, cursors, commands."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from electrical_safety_bridge.relay.core import OUTBOX_FILE
from electrical_safety_bridge.relay.messages import (
    KIND_GAP,
    Message,
    Priority,
    event_message,
    telemetry_message,
)
from electrical_safety_bridge.relay.outbox import Outbox, OutboxError
from electrical_safety_bridge.safety.events import BridgeEvent
from electrical_safety_bridge.storage.event_store import EventStore, StoredEvent

from .conftest import Rigs
from .helpers import alarm, offline

pytestmark = pytest.mark.usefixtures("socket_enabled")  # the relays here start their sinks

SITE = "home-1"
SECRET = "whsec_" + "A" * 32


def stored(store: EventStore, events: list[BridgeEvent]) -> list[StoredEvent]:
    return store.append_many(events)


@pytest.fixture
def store(tmp_path: Path) -> EventStore:
    return EventStore(tmp_path / "events.sqlite3")


def open_outbox(tmp_path: Path, max_bytes: int = 10_000_000) -> Outbox:
    return Outbox(tmp_path / OUTBOX_FILE, site=SITE, max_bytes=max_bytes)


def messages(events: list[StoredEvent]) -> list[Message]:
    return [event_message(SITE, e) for e in events]


def test_alarms_first_then_events_then_telemetry_each_in_order(
    tmp_path: Path, store: EventStore
) -> None:
    outbox = open_outbox(tmp_path)
    mixed = []
    for n in range(5):
        mixed += [offline("d1", n), alarm("d1", n)]
    msgs = messages(stored(store, mixed))
    telemetry = [telemetry_message(SITE, "d1", {"n": n}, 1.0 + n) for n in range(3)]
    outbox.add([(m, ["mqtt"]) for m in [telemetry[0], *msgs, *telemetry[1:]]], store_seq=10)
    got = outbox.fetch("mqtt", {}, 100)
    kinds = [(p.message.priority, p.message.type) for p in got]
    assert kinds == (
        [(Priority.ALARM, "alarm_raised")] * 5
        + [(Priority.EVENT, "device_offline")] * 5
        + [(Priority.TELEMETRY, "telemetry")] * 3
    )
    assert [p.message.event_id for p in got[:5]] == [m.event_id for m in msgs if m.is_alarm]
    # A session's cursors skip what it already took; a new alarm still comes first.
    after = {int(p.message.priority): p.id for p in got}
    (late,) = messages(stored(store, [alarm("d2", 0)]))
    outbox.add([(late, ["mqtt"])])
    assert [p.message.event_id for p in outbox.fetch("mqtt", after, 100)] == [late.event_id]


def test_rows_survive_a_reopen_until_acknowledged_by_every_sink(
    tmp_path: Path, store: EventStore
) -> None:
    outbox = open_outbox(tmp_path)
    msgs = messages(stored(store, [alarm("d1", n) for n in range(3)]))
    assert outbox.add([(m, ["mqtt", "webhook:a"]) for m in msgs], store_seq=3) == 3
    # The same ids again (a catch-up overlapping the live feed) are not added twice.
    assert outbox.add([(m, ["mqtt"]) for m in msgs]) == 0
    outbox.close()

    outbox = open_outbox(tmp_path)
    assert outbox.store_cursor() == 3
    assert outbox.counts() == {"mqtt": {"alarm": 3}, "webhook:a": {"alarm": 3}}
    rows = outbox.fetch("mqtt", {}, 10)
    outbox.ack("mqtt", [(int(p.message.priority), p.id) for p in rows])
    assert outbox.counts() == {"webhook:a": {"alarm": 3}}
    assert outbox.size > 0  # the webhook still owes them
    rows = outbox.fetch("webhook:a", {}, 10)
    outbox.ack("webhook:a", [(int(p.message.priority), p.id) for p in rows])
    assert outbox.counts() == {}
    assert outbox.size == 0
    outbox.close()


def test_telemetry_is_coalesced_over_the_bound_with_a_gap_and_alarms_kept(
    tmp_path: Path, store: EventStore, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = open_outbox(tmp_path, max_bytes=20_000)
    alarms = messages(stored(store, [alarm("d1", n) for n in range(20)]))
    outbox.add([(m, ["mqtt"]) for m in alarms])
    snapshots = [
        telemetry_message(SITE, device, {"values": {"rc": n}, "pad": "x" * 200}, 100.0 + n)
        for n in range(40)
        for device in ("d1", "d2")
    ]
    with caplog.at_level(logging.WARNING):
        for snapshot in snapshots:
            outbox.add([(snapshot, ["mqtt"])])
    assert outbox.metrics.coalesced > 0
    assert "coalesced" in caplog.text
    rows = outbox.fetch("mqtt", {}, 1000)
    # Every alarm is still there, in order.
    assert [p.message.event_id for p in rows if p.message.is_alarm] == [m.event_id for m in alarms]
    # Each device kept its newest snapshot; gaps say how many were dropped, and when.
    telemetry = [p.message for p in rows if p.message.priority is Priority.TELEMETRY]
    assert telemetry[-2:] == snapshots[-2:]
    gaps = [p.message for p in rows if p.message.kind == KIND_GAP]
    assert gaps
    dropped = sum(json.loads(g.body)["data"]["dropped"] for g in gaps)
    assert dropped == outbox.metrics.coalesced
    assert len(telemetry) + dropped == len(snapshots)
    assert outbox.metrics.as_dict()["gaps"] == len(gaps)


def test_alarms_alone_over_the_bound_are_kept_and_logged_once(
    tmp_path: Path, store: EventStore, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = open_outbox(tmp_path, max_bytes=1000)
    with caplog.at_level(logging.WARNING):
        for n in range(30):
            outbox.add([(m, ["mqtt"]) for m in messages(stored(store, [alarm("d1", n)]))])
    assert outbox.counts() == {"mqtt": {"alarm": 30}}
    assert outbox.metrics.over_bound
    assert caplog.text.count("never evicted") == 1


def test_commands_are_remembered_for_a_while(tmp_path: Path) -> None:
    outbox = open_outbox(tmp_path)
    assert outbox.remember_command("c1", now=1000.0, keep=600.0)
    assert not outbox.remember_command("c1", now=1100.0, keep=600.0)
    # Long after the window, the id is forgotten (a replay would be stale by then anyway).
    assert outbox.remember_command("c1", now=2000.0, keep=600.0)


def test_a_foreign_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / OUTBOX_FILE
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(OutboxError, match=OUTBOX_FILE):
        Outbox(path, site=SITE, max_bytes=1000)


async def test_events_stored_but_never_offered_are_caught_up_at_start(rigs: Rigs) -> None:
    section = {"webhooks": [{"id": "w", "url": "https://127.0.0.1:9/x", "secret": SECRET}]}
    rig = await rigs.make(section)
    first = await rig.emit(alarm("d1", 0))
    await rig.relay.flush()
    await rigs.close(rig)
    # The crash window: stored by the bridge, never handed to the relay.
    direct = EventStore(rig.data_dir / "events.sqlite3")
    missed = direct.append_many([alarm("d1", 1), alarm("d1", 2)])
    direct.close()

    again = await rigs.make(section)
    rows = await again.relay.outbox.fetch("webhook:w", {}, 10)
    assert [p.message.event_id for p in rows] == [first.id] + [m.id for m in missed]


async def test_a_new_outbox_starts_at_the_newest_stored_event(rigs: Rigs, tmp_path: Path) -> None:
    data_dir = tmp_path / "bridge"
    data_dir.mkdir()
    old = EventStore(data_dir / "events.sqlite3")
    old.append_many([alarm("d1", n) for n in range(5)])
    old.close()
    section = {"webhooks": [{"id": "w", "url": "https://127.0.0.1:9/x", "secret": SECRET}]}
    rig = await rigs.make(section)
    assert await rig.relay.outbox.fetch("webhook:w", {}, 10) == []
    assert await rig.relay.outbox.store_cursor() == 5


def test_what_removed_sinks_were_owed_is_dropped(tmp_path: Path, store: EventStore) -> None:
    outbox = open_outbox(tmp_path)
    msgs = messages(stored(store, [alarm("d1", n) for n in range(3)]))
    outbox.add([(m, ["mqtt", "webhook:old"]) for m in msgs])
    assert outbox.keep_sinks(["mqtt"]) == 3
    assert outbox.counts() == {"mqtt": {"alarm": 3}}
    assert outbox.keep_sinks([]) == 3
    assert outbox.counts() == {}
    assert outbox.size == 0
