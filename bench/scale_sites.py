"""Scale: a thousand site relays publishing into one local Mosquitto, and the landlord's consumers.

A property company runs one broker for all its buildings; each building's bridge relays its
events there (design.md, "the landlord's view"). This benchmark stands 1,000 simulated site
relays against one local Mosquitto (Debian's, from apt) with persistent sessions and
persistence on disk, and measures, in one run:

1. **Live** (``scale_live_*``): every site connects, publishes its birth and then its events
   (QoS 1, each awaited to its PUBACK) while one landlord consumer stores them. Printed: the
   sites' connect time, the events/s into the broker, the broker's CPU while they publish (a
   share of one core, from ``/proc``), and the **loss**: events PUBACKed to a site but never
   stored by the landlord (goal 0).
2. **One consumer saturated** (``scale_one_*``): with the consumer offline (its persistent
   session subscribed), the sites publish a backlog that the broker queues for it; then the
   consumer comes back and drains it as fast as it can. Events/s of that drain is the rate at
   which one consumer saturates: nothing else (publishers, network) is in its way. The
   broker's CPU while it delivers is printed too (in phase 3 as well).
3. **Scaled out** (``scale_shared_*``): the same backlog for ``--consumers`` consumers in one
   shared subscription (``$share/landlord/...``), with the broker restarted in between (the
   queued messages come back from its persistence file), and one consumer SIGKILLed mid-drain
   and started again under the same client id: the broker redelivers what it had in flight,
   and the sites also send a few events twice, as a relay does when a session breaks before
   the PUBACKs are recorded. The consumers stay idempotent by event id: the landlord's table
   has one row per event id however many deliveries came (``scale_shared_deliveries_count``
   against ``scale_shared_stored_rows_count``).

**The publishers are faithful lightweight relays**, not 1,000 full :class:`Relay` objects:
each site is an aiomqtt client made by the real relay's own factory
(:meth:`MqttSink._client`: MQTT v5, client id ``esb-<site>``, ``clean_start`` false, the
session expiry, the last will, ``max_inflight``), publishes the real birth (``status``
``online``, retained) and real event bodies (:func:`messages.event_message` of a stored
alarm) on the real topics (:meth:`MqttSink.topic`), QoS 1 within the ``max_inflight``
window. What is left out is each site's SQLite event store and outbox: a thousand of those in
one process on this machine would measure our own SQLite and one interpreter's GIL rather
than the broker, and a single relay's store-to-broker figures are ``bench/relay.py``'s.

**The consumers** are paho-mqtt clients (MQTT v5, persistent sessions) with manual
acknowledgements: a message is PUBACKed only after its batch is committed to the landlord's
SQLite table (``INSERT OR IGNORE`` keyed by event id, WAL). aiomqtt 2.5 acknowledges on
receipt, before the consumer has stored anything, so a consumer killed mid-stream would lose
what it held; the landlord's side must ack after the durable write, as here.

Run it with ``PYTHONPATH=addon .venv-bridge/bin/python bench/scale_sites.py`` (``make bench``).
Each figure is printed as ``name: value``. Nothing is asserted on time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TextIO, cast

# Run as a script (``python bench/scale_sites.py``), Python puts bench/ itself on the path,
# not the repository root that the shared ``bench._common`` is imported from.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (
    READY_S,
    Figures,
    Mosquitto,
    argument_parser,
    cpu_seconds,
    machine_load,
    run_and_print,
)

HERE: Final = Path(__file__).resolve()
TOPIC_PREFIX: Final = "electrical_safety"
#: Every site's events: ``<prefix>/<site>/<device>/event/<type>`` (MqttSink.topic).
EVENTS_FILTER: Final = f"{TOPIC_PREFIX}/+/+/event/#"
SHARE_GROUP: Final = "landlord"
#: The broker: persistent sessions kept a day, no cap on queued messages (a backlog must
#: never be dropped), written to disk on shutdown, delivering up to 100 unacknowledged
#: messages to each consumer (its MQTT v5 receive maximum).
BROKER_EXTRA: Final = (
    "persistence true\npersistence_location {folder}/\nautosave_interval 0\n"
    "persistent_client_expiration 1d\nmax_queued_messages 0\nmax_queued_bytes 0\n"
    "max_inflight_messages 100\n"
)
CONSUMER_RECEIVE_MAXIMUM: Final = 100
#: A session ends this long after its client leaves (consumers and sites alike).
SESSION_EXPIRY_S: Final = 3600
#: At most this many sites of one publisher process connect at the same moment.
CONNECTING_AT_ONCE: Final = 50
DRAIN_BOUND_S: Final = 900.0


@dataclass(frozen=True, slots=True)
class Config:
    """What one run measures."""

    sites: int = 1000
    events: int = 20  # per site and phase
    duplicate_every: int = 50  # each site sends every n-th event twice (0: none)
    consumers: int = 4
    publishers: int = 2  # processes the sites are spread over


def event_id(phase: str, site: int, n: int) -> str:
    """A deterministic, unique id per phase, site and event (a store id stands in for it)."""
    return f"{phase}{site:05d}{n:06d}"


# -- the sites (a publisher process) ---------------------------------------------------------


async def _publish_sites(
    port: int, phase: str, first: int, count: int, events: int, duplicate_every: int
) -> dict[str, Any]:
    """Connect ``count`` sites, wait for ``go`` on stdin, publish, report."""
    from electrical_safety_bridge.common.enums import EventType
    from electrical_safety_bridge.relay.messages import event_message
    from electrical_safety_bridge.relay.mqtt_sink import ONLINE, MqttSink
    from electrical_safety_bridge.relay.outbox import AsyncOutbox
    from electrical_safety_bridge.relay.relay_settings import MqttSettings
    from electrical_safety_bridge.storage.event_store import StoredEvent

    settings = MqttSettings(host="127.0.0.1", port=port, session_expiry=SESSION_EXPIRY_S)

    async def _status() -> dict[str, Any]:
        return {}

    sinks = []
    for index in range(first, first + count):
        # Only the sink's client factory and topic scheme are used: its outbox is never read.
        sinks.append(
            MqttSink(
                settings,
                site=f"site-{index:05d}",
                outbox=cast(AsyncOutbox, None),
                heartbeat=3600,
                status=_status,
                heartbeat_body=lambda _: ("", b""),
            )
        )
    clients = [sink._client() for sink in sinks]
    started = time.perf_counter()
    gate = asyncio.Semaphore(CONNECTING_AT_ONCE)
    async with contextlib.AsyncExitStack() as stack:

        async def connect(client: Any) -> None:
            async with gate:
                await stack.enter_async_context(client)

        await asyncio.gather(*(connect(c) for c in clients))
        connect_s = time.perf_counter() - started
        print("connected", flush=True)
        line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        if line.strip() != "go":
            raise RuntimeError(f"publisher: expected 'go', got {line!r}")

        acked = duplicates = failures = 0
        began = time.time()

        async def site(sink: MqttSink, client: Any, index: int) -> None:
            nonlocal acked, duplicates, failures
            await client.publish(sink.status_topic, ONLINE, qos=1, retain=True)  # the birth
            window = asyncio.Semaphore(settings.max_inflight)

            async def send(n: int, again: bool) -> None:
                nonlocal acked, duplicates, failures
                now = time.time()
                stored = StoredEvent(
                    seq=n + 1,
                    id=event_id(phase, index, n),
                    type=EventType.ALARM_RAISED,
                    at=now,
                    device_id=f"asj-{n % 16 + 1}",
                    channel="residual_current",
                    data={
                        "id": f"alarm-{index}-{n}",
                        "kind": "alarm",
                        "channel": "residual_current",
                        "raised_at": now,
                        "value_at_alarm": 350,
                        "active": True,
                        "acknowledged": False,
                    },
                )
                message = event_message(sink.site, stored)
                topic, retain = sink.topic(message)
                async with window:
                    try:
                        await client.publish(topic, message.body, qos=1, retain=retain, timeout=60)
                    except Exception:
                        failures += 1
                        return
                if again:
                    duplicates += 1
                else:
                    acked += 1

            sends = [send(n, False) for n in range(events)]
            if duplicate_every:
                sends += [send(n, True) for n in range(0, events, duplicate_every)]
            await asyncio.gather(*sends)

        await asyncio.gather(
            *(site(s, c, first + i) for i, (s, c) in enumerate(zip(sinks, clients, strict=True)))
        )
        ended = time.time()
        for sink, client in zip(sinks, clients, strict=True):
            with contextlib.suppress(Exception):
                await client.publish(sink.status_topic, b"offline", qos=1, retain=True)
    return {
        "acked": acked,
        "duplicates": duplicates,
        "failures": failures,
        "began": began,
        "ended": ended,
        "connect_s": connect_s,
    }


def publisher_main(argv: Sequence[str]) -> int:
    port, phase, first, count, events, duplicate_every = argv
    result = asyncio.run(
        _publish_sites(int(port), phase, int(first), int(count), int(events), int(duplicate_every))
    )
    print("result " + json.dumps(result), flush=True)
    return 0


# -- the landlord's consumer (a process) -----------------------------------------------------


def consumer_main(argv: Sequence[str]) -> int:
    """``register``: make the persistent session and subscription, then leave.
    ``run``: wait for ``go``, store every delivery idempotently, ack after each commit; on
    SIGTERM end the session and print the counts."""
    mode, port, client_id, topic, db_path = argv
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    stopping = False

    def on_term(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_term)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.manual_ack_set(True)
    connect = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    connect.SessionExpiryInterval = SESSION_EXPIRY_S
    connect.ReceiveMaximum = CONSUMER_RECEIVE_MAXIMUM
    subscribed = False
    pending: list[tuple[int, int, str, str, str]] = []  # mid, qos, id, site, type
    deliveries = 0

    def on_connect(c: mqtt.Client, *_: object) -> None:
        c.subscribe(topic, qos=1)

    def on_subscribe(*_: object) -> None:
        nonlocal subscribed
        subscribed = True

    def on_message(c: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        nonlocal deliveries
        deliveries += 1
        body = json.loads(message.payload)
        pending.append((message.mid, message.qos, body["id"], body["site"], body["type"]))

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    if mode == "run":
        print("ready", flush=True)
        if sys.stdin.readline().strip() != "go":
            return 2
    client.connect("127.0.0.1", int(port), clean_start=False, properties=connect)
    deadline = time.monotonic() + READY_S * 3
    while not subscribed and time.monotonic() < deadline:
        client.loop(timeout=0.05)
    if not subscribed:
        print(f"consumer {client_id}: no SUBACK", file=sys.stderr)
        return 1
    if mode == "register":
        client.disconnect()
        return 0
    db = sqlite3.connect(db_path, timeout=30, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(
        "CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, site TEXT, type TEXT, by TEXT)"
    )
    stored = 0
    first_at = last_at = 0.0
    while not stopping:
        client.loop(timeout=0.01)
        if not pending:
            continue
        batch, pending[:] = list(pending), []
        db.execute("BEGIN IMMEDIATE")
        before = db.total_changes
        db.executemany(
            "INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?)",
            [(i, s, t, client_id) for _, _, i, s, t in batch],
        )
        db.execute("COMMIT")
        stored += db.total_changes - before
        for mid, qos, *_ in batch:  # acknowledged only once durable
            client.ack(mid, qos)
        last_at = time.time()
        first_at = first_at or last_at
    end = Properties(PacketTypes.DISCONNECT)  # type: ignore[no-untyped-call]
    end.SessionExpiryInterval = 0  # a clean stop ends the session: nothing queues for it
    client.disconnect(properties=end)
    client.loop(timeout=0.1)
    db.close()
    print(
        "result "
        + json.dumps(
            {"deliveries": deliveries, "stored": stored, "first": first_at, "last": last_at}
        ),
        flush=True,
    )
    return 0


# -- the orchestrator ------------------------------------------------------------------------


class Child:
    """A child process of this file, spoken to by lines on stdin and stdout."""

    def __init__(self, *args: str) -> None:
        self.args = args
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, expect: str | None) -> Child:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(HERE),
            *self.args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        if expect is not None:
            await self.expect(expect, READY_S * 12)
        return self

    async def expect(self, token: str, bound: float) -> str:
        assert self.process is not None and self.process.stdout is not None
        line = (await asyncio.wait_for(self.process.stdout.readline(), bound)).decode()
        if not line.startswith(token):
            raise RuntimeError(f"{self.args[:2]}: expected {token!r}, got {line!r}")
        return line[len(token) :].strip()

    def send(self, line: str) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(f"{line}\n".encode())

    async def result(self, bound: float) -> dict[str, Any]:
        found = json.loads(await self.expect("result", bound))
        assert self.process is not None
        await asyncio.wait_for(self.process.wait(), READY_S)
        return cast(dict[str, Any], found)

    async def stop(self) -> dict[str, Any]:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return await self.result(READY_S * 3)

    def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):  # it ended on its own meanwhile
                self.process.kill()


class Sites:
    """The sites of one phase, spread over publisher processes."""

    def __init__(self, port: int, phase: str, config: Config) -> None:
        self.children: list[Child] = []
        per = -(-config.sites // config.publishers)
        for first in range(0, config.sites, per):
            count = min(per, config.sites - first)
            self.children.append(
                Child(
                    "--publisher",
                    str(port),
                    phase,
                    str(first),
                    str(count),
                    str(config.events),
                    str(config.duplicate_every),
                )
            )

    async def connect(self) -> None:
        await asyncio.gather(*(c.start("connected") for c in self.children))

    async def publish(self) -> dict[str, Any]:
        for child in self.children:
            child.send("go")
        results = await asyncio.gather(*(c.result(DRAIN_BOUND_S) for c in self.children))
        return {
            "acked": sum(r["acked"] for r in results),
            "duplicates": sum(r["duplicates"] for r in results),
            "failures": sum(r["failures"] for r in results),
            "began": min(r["began"] for r in results),
            "ended": max(r["ended"] for r in results),
            "connect_s": max(r["connect_s"] for r in results),
        }

    def kill(self) -> None:
        for child in self.children:
            child.kill()


def _stored_rows(db_path: Path) -> int:
    if not db_path.exists():
        return 0
    with contextlib.closing(sqlite3.connect(db_path, timeout=30)) as db:
        try:
            return int(db.execute("SELECT count(*) FROM events").fetchone()[0])
        except sqlite3.OperationalError:  # the table is not made yet
            return 0


async def _until_stored(db_path: Path, expected: int, bound: float) -> float:
    """Wait until ``expected`` rows are stored (or the bound); the time.time() it happened."""
    deadline = time.monotonic() + bound
    while _stored_rows(db_path) < expected and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)  # sampling another process's table, bounded above
    return time.time()


async def _consumers(
    port: int, ids: Sequence[str], topic: str, db: Path, register: bool
) -> list[Child]:
    if register:
        for client_id in ids:
            child = Child("--consumer", "register", str(port), client_id, topic, str(db))
            await child.start(None)
            assert child.process is not None
            if await asyncio.wait_for(child.process.wait(), READY_S * 6):
                raise RuntimeError(f"consumer {client_id} could not subscribe")
    return list(
        await asyncio.gather(
            *(Child("--consumer", "run", str(port), i, topic, str(db)).start("ready") for i in ids)
        )
    )


def _rate(rows: int, seconds: float) -> float:
    return rows / seconds if seconds > 0 else float("inf")


def _check_ids(db: Path, phase: str, config: Config) -> int:
    """Rows whose id is not one the sites sent (must be 0)."""
    expected = {event_id(phase, s, n) for s in range(config.sites) for n in range(config.events)}
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        return sum(1 for (i,) in conn.execute("SELECT id FROM events") if i not in expected)


async def measure(config: Config) -> Figures:
    if min(config.sites, config.events, config.consumers, config.publishers) < 1:
        raise ValueError("sites, events, consumers and publishers must be at least 1")
    figures: Figures = [
        ("scale_sites_count", str(config.sites)),
        ("scale_events_per_site_per_phase_count", str(config.events)),
        ("scale_publisher_processes_count", str(config.publishers)),
        ("scale_machine_load_at_start", machine_load()),
    ]
    unique = config.sites * config.events
    with tempfile.TemporaryDirectory(prefix="scale-sites-") as tmp:
        folder = Path(tmp)
        broker = Mosquitto(folder, BROKER_EXTRA.format(folder=folder))
        await broker.start()
        children: list[Child] = []
        try:
            # 1. Live: the sites publish while one consumer stores.
            db = folder / "live.sqlite3"
            live = await _consumers(broker.port, ["landlord-live"], EVENTS_FILTER, db, True)
            children += live
            live[0].send("go")
            sites = Sites(broker.port, "L", config)
            children += sites.children
            await sites.connect()
            cpu_before, wall_before = cpu_seconds(broker.pid), time.perf_counter()
            sent = await sites.publish()
            broker_cpu = (cpu_seconds(broker.pid) - cpu_before) / (
                time.perf_counter() - wall_before
            )
            stored_at = await _until_stored(db, sent["acked"], DRAIN_BOUND_S)
            counts = await live[0].stop()
            rows = _stored_rows(db)
            figures += [
                ("scale_live_sites_connect_s", f"{sent['connect_s']:.2f}"),
                ("scale_live_events_acked_count", str(sent["acked"])),
                ("scale_live_publish_failures_count", str(sent["failures"])),
                (
                    "scale_live_events_per_s_into_broker",
                    f"{(sent['acked'] + sent['duplicates']) / (sent['ended'] - sent['began']):.0f}",
                ),
                ("scale_live_broker_cpu_share_of_one_core", f"{broker_cpu:.2f}"),
                ("scale_live_stored_after_publish_s", f"{stored_at - sent['ended']:.2f}"),
                ("scale_live_stored_rows_count", str(rows)),
                ("scale_live_loss_count", str(unique - rows)),
                ("goal_scale_live_loss_count", "0"),
                ("scale_live_unexpected_ids_count", str(_check_ids(db, "L", config))),
                ("scale_live_deliveries_count", str(counts["deliveries"])),
            ]

            # 2. One consumer, saturated by a backlog queued while it was away.
            db = folder / "one.sqlite3"
            topic = f"$share/{SHARE_GROUP}-one/{EVENTS_FILTER}"
            one = await _consumers(broker.port, ["landlord-one"], topic, db, True)
            children += one
            sites = Sites(broker.port, "O", config)
            children += sites.children
            await sites.connect()
            await sites.publish()
            began, cpu_before = time.time(), cpu_seconds(broker.pid)
            one[0].send("go")
            ended = await _until_stored(db, unique, DRAIN_BOUND_S)
            one_broker_cpu = (cpu_seconds(broker.pid) - cpu_before) / (time.time() - began)
            await one[0].stop()
            one_rate = _stored_rows(db) / (ended - began)
            figures += [
                ("scale_one_backlog_events_count", str(unique)),
                ("scale_one_stored_rows_count", str(_stored_rows(db))),
                ("scale_one_drain_s", f"{ended - began:.2f}"),
                ("scale_one_consumer_saturates_at_events_per_s", f"{one_rate:.0f}"),
                ("scale_one_broker_cpu_share_of_one_core", f"{one_broker_cpu:.2f}"),
            ]

            # 3. Consumers scaled out in a shared subscription; broker restarted; one killed.
            db = folder / "shared.sqlite3"
            topic = f"$share/{SHARE_GROUP}/{EVENTS_FILTER}"
            ids = [f"landlord-{n}" for n in range(config.consumers)]
            many = await _consumers(broker.port, ids, topic, db, True)
            children += many
            sites = Sites(broker.port, "S", config)
            children += sites.children
            await sites.connect()
            sent = await sites.publish()
            await broker.stop()  # the queued backlog must come back from the persistence file
            await broker.start()
            began, cpu_before = time.time(), cpu_seconds(broker.pid)
            for child in many:
                child.send("go")
            half = unique // 2
            halfway = await _until_stored(db, half, DRAIN_BOUND_S)
            shared_broker_cpu = (cpu_seconds(broker.pid) - cpu_before) / (halfway - began)
            many[0].kill()  # mid-drain: its in-flight deliveries are redelivered
            assert many[0].process is not None
            await many[0].process.wait()
            again = await _consumers(broker.port, ids[:1], topic, db, False)
            children += again
            again[0].send("go")
            ended = await _until_stored(db, unique, DRAIN_BOUND_S)
            results = [await c.stop() for c in [*again, *many[1:]]]
            rows = _stored_rows(db)
            # The rate of all consumers together, up to the kill (the restart's own time, a
            # Python start on a busy machine, is not the consumers' speed).
            shared_rate = _rate(half, halfway - began)
            deliveries = sum(r["deliveries"] for r in results)
            figures += [
                ("scale_shared_consumers_count", str(config.consumers)),
                ("scale_shared_backlog_events_count", str(unique)),
                ("scale_shared_duplicates_sent_by_sites_count", str(sent["duplicates"])),
                ("scale_shared_broker_restarted_before_drain", "1"),
                ("scale_shared_consumers_killed_mid_drain_count", "1"),
                ("scale_shared_drain_s_with_kill_and_restart", f"{ended - began:.2f}"),
                ("scale_shared_events_per_s_first_half", f"{shared_rate:.0f}"),
                ("scale_shared_speedup_over_one", f"{shared_rate / one_rate:.2f}"),
                ("scale_shared_broker_cpu_share_of_one_core", f"{shared_broker_cpu:.2f}"),
                # The killed consumer's own count died with it: its deliveries are not here.
                ("scale_shared_deliveries_count_survivors", str(deliveries)),
                ("scale_shared_stored_rows_count", str(rows)),
                ("scale_shared_loss_count", str(unique - rows)),
                ("goal_scale_shared_loss_count", "0"),
                ("scale_shared_unexpected_ids_count", str(_check_ids(db, "S", config))),
                ("scale_machine_load_at_end", machine_load()),
            ]
        finally:
            for child in children:
                child.kill()
            await broker.stop()
    return figures


def _parse(argv: Sequence[str] | None) -> Config:
    parser = argument_parser(__doc__)
    defaults = Config()
    parser.add_argument("--sites", type=int, default=defaults.sites)
    parser.add_argument("--events", type=int, default=defaults.events, help="per site, phase")
    parser.add_argument("--duplicate-every", type=int, default=defaults.duplicate_every)
    parser.add_argument("--consumers", type=int, default=defaults.consumers)
    parser.add_argument("--publishers", type=int, default=defaults.publishers)
    args = parser.parse_args(argv)
    return Config(args.sites, args.events, args.duplicate_every, args.consumers, args.publishers)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Measure and print ``name: value`` lines (or run as one of the child processes)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["--publisher"]:
        return publisher_main(arguments[1:])
    if arguments[:1] == ["--consumer"]:
        return consumer_main(arguments[1:])
    return run_and_print(measure, _parse(arguments), out)


if __name__ == "__main__":
    sys.exit(main())
