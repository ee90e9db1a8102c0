"""The relay: takes each stored event, makes it durable in the outbox, and runs the sinks.

The bridge hands every event to :meth:`Relay.offer` after the event store's durable append
(``Bridge._write_events``). A writer task commits what was offered to the outbox in batches
(group commit: one fsync for many events) and wakes the sinks. The outbox records the highest
store ``seq`` it holds, and :meth:`Relay.start` first re-reads the event store past that point,
so an event stored just before a crash is still sent after the restart.

Telemetry is not in the event store: the relay takes a snapshot of every device each
``telemetry_interval`` seconds, and of a device at once when one of its alarms or its
communication changes, so a landlord's dashboard follows alarms within a second or so.

Standalone use (tests, the bench, another program): give no ``emit`` and the relay appends the
events it records itself (remote commands, a disabled endpoint) to ``store`` and offers them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from ..common.enums import EventType
from ..common.site import Site
from ..safety.events import BridgeEvent
from ..storage.event_store import AsyncEventStore, StoredEvent
from .messages import (
    ALARM_TYPES,
    Message,
    event_message,
    heartbeat_body,
    telemetry_message,
)
from .mqtt_sink import MqttSink
from .outbox import AsyncOutbox, OutboxError
from .relay_settings import RelayConfig
from .remote_commands import CommandTarget, RemoteCommands
from .webhook_sink import WebhookSink, public_url

_LOGGER = logging.getLogger(__name__)

OUTBOX_FILE = "relay.sqlite3"
_BATCH = 2000
_BACKFILL_PAGE = 1000
_SNAPSHOT_TYPES = ALARM_TYPES | {EventType.DEVICE_OFFLINE, EventType.DEVICE_ONLINE}
_STOP_S = 5.0


class RelayHost(Protocol):
    """What the relay reads from the bridge: the devices and their live state."""

    def devices(self) -> list[dict[str, Any]]:
        """Every device: identity, channel metadata and state."""
        ...

    def device_state(self, device_id: str) -> dict[str, Any]:
        """One device's live state."""
        ...


class Relay:
    """The outbox and its sinks, for one bridge (one site)."""

    def __init__(
        self,
        config: RelayConfig,
        *,
        data_dir: Path,
        store: AsyncEventStore,
        site: str,
        profile: Site | None = None,
        host: RelayHost | None = None,
        target: CommandTarget | None = None,
        emit: Callable[[BridgeEvent], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.site = config.site or site
        #: The site's profile (name, region, location): in the heartbeat, on the retained
        #: ``site`` topic and in MQTT discovery (a map marker).
        self.profile = profile
        self.data_dir = Path(data_dir)
        self._store = store
        self._host = host
        self._target = target
        self._emit = emit
        self._clock = clock
        self._queue: asyncio.Queue[StoredEvent | Message] = asyncio.Queue()
        self._outbox: AsyncOutbox | None = None
        self._cursor = 0
        self._offered = 0
        self._written = 0
        self._written_changed = asyncio.Condition()
        self._dirty: set[str] = set()
        self._dirty_event = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._sink_tasks: list[asyncio.Task[None]] = []
        self.mqtt: MqttSink | None = None
        self.webhooks: list[WebhookSink] = []
        self.commands: RemoteCommands | None = None
        self.started = False

    @property
    def outbox(self) -> AsyncOutbox:
        """The outbox (open while the relay runs)."""
        if self._outbox is None:
            raise RuntimeError("the relay is not started")
        return self._outbox

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Open the outbox, catch up from the event store, start the sinks."""
        config = self.config
        self._outbox = await AsyncOutbox.open(
            self.data_dir / OUTBOX_FILE,
            site=self.site,
            max_bytes=int(config.outbox_max_mb * 1024 * 1024),
            clock=self._clock,
        )
        disabled = await self.outbox.disabled_sinks()
        for hook in config.webhooks:
            sink = WebhookSink(
                hook,
                outbox=self.outbox,
                retry_min=config.retry_min,
                retry_max=config.retry_max,
                heartbeat=config.heartbeat,
                status=self.status,
                heartbeat_body=self._heartbeat_body,
                on_gone=self._endpoint_gone,
                clock=self._clock,
            )
            if sink.name in disabled:
                url, reason = disabled[sink.name]
                if url == hook.url:
                    sink.disabled = reason
                    _LOGGER.error("relay: webhook %s stays disabled: %s", hook.id, reason)
                else:
                    await self.outbox.enable_sink(sink.name)
                    _LOGGER.info("relay: webhook %s has a new url; enabled again", hook.id)
            self.webhooks.append(sink)
        if config.mqtt is not None:
            if config.remote_commands.enabled:
                self.commands = RemoteCommands(
                    config.remote_commands,
                    site=self.site,
                    outbox=self.outbox,
                    target=self._target,
                    record=self.record,
                    clock=self._clock,
                )
            self.mqtt = MqttSink(
                config.mqtt,
                site=self.site,
                outbox=self.outbox,
                heartbeat=config.heartbeat,
                status=self.status,
                heartbeat_body=self._heartbeat_body,
                devices=self._host.devices if self._host is not None else None,
                commands=self.commands,
                profile=self.profile,
            )
        dropped = await self.outbox.keep_sinks(s.name for s in self._sinks())
        if dropped:
            _LOGGER.warning(
                "relay: dropped %d undelivered message(s) of sinks no longer configured", dropped
            )
        await self._backfill()
        self._tasks.append(asyncio.create_task(self._write(), name="relay outbox writer"))
        if self._host is not None and config.telemetry_interval > 0:
            self._tasks.append(asyncio.create_task(self._telemetry(), name="relay telemetry"))
        for running in self._sinks():
            self._sink_tasks.append(
                asyncio.create_task(running.run(), name=f"relay {running.name}")
            )
        self.started = True
        _LOGGER.info(
            "relay for site %s: %s; outbox %s (%d bytes pending)",
            self.site,
            ", ".join(s.name for s in self._sinks()) or "no sinks",
            self.data_dir / OUTBOX_FILE,
            self.outbox.size,
        )

    async def stop(self) -> None:
        """Commit what was offered, stop the sinks (MQTT says offline), close the outbox."""
        if self._outbox is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.flush(), _STOP_S)
        for sink in self._sinks():
            sink.stop()
        if self._sink_tasks:
            _, late = await asyncio.wait(self._sink_tasks, timeout=_STOP_S)
            for task in late:
                task.cancel()
            await asyncio.gather(*self._sink_tasks, return_exceptions=True)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._outbox.close()
        self._outbox = None
        self.started = False

    # -- intake -------------------------------------------------------------------------

    def offer(self, stored: StoredEvent) -> None:
        """Take one event the store has made durable. Never blocks, never raises."""
        self._offered += 1
        self._queue.put_nowait(stored)
        if stored.device_id is not None and stored.type in _SNAPSHOT_TYPES:
            self._dirty.add(stored.device_id)
            self._dirty_event.set()

    def offer_telemetry(self, device_id: str, state: Mapping[str, Any]) -> None:
        """Take one device's state snapshot."""
        self._offered += 1
        self._queue.put_nowait(telemetry_message(self.site, device_id, state, self._clock()))

    async def flush(self) -> None:
        """Return once everything offered so far is committed to the outbox."""
        target = self._offered
        async with self._written_changed:
            await self._written_changed.wait_for(lambda: self._written >= target)

    async def record(self, event: BridgeEvent) -> None:
        """Record an event of the relay's own in the event store (and so relay it)."""
        if self._emit is not None:
            self._emit(event)
            return
        stored = await self._store.append(event)
        self.offer(stored)

    # -- internals ----------------------------------------------------------------------

    def _sinks(self) -> list[MqttSink | WebhookSink]:
        sinks: list[MqttSink | WebhookSink] = []
        if self.mqtt is not None:
            sinks.append(self.mqtt)
        sinks.extend(self.webhooks)
        return sinks

    def _sinks_for(self, message: Message) -> list[str]:
        names = [self.mqtt.name] if self.mqtt is not None else []
        names.extend(
            hook.name
            for hook in self.webhooks
            if not hook.disabled and hook.settings.wants(message.kind, message.type)
        )
        return names

    async def _backfill(self) -> None:
        """Put the events stored after the outbox's cursor into the outbox."""
        cursor = await self.outbox.store_cursor()
        if cursor is None:
            # A new outbox starts at the store's newest event: history is not re-sent.
            cursor = await self._store.last_seq()
            await self.outbox.set_store_cursor(cursor)
            self._cursor = cursor
            return
        caught_up = 0
        while True:
            events = await self._store.query(after_seq=cursor, limit=_BACKFILL_PAGE)
            if not events:
                break
            await self.outbox.add(
                [(m, self._sinks_for(m)) for m in (self._message(e) for e in events)],
                store_seq=events[-1].seq,
            )
            cursor = events[-1].seq
            caught_up += len(events)
        self._cursor = cursor
        if caught_up:
            _LOGGER.warning(
                "relay: %d event(s) stored before the last stop had not reached the outbox;"
                " queued now",
                caught_up,
            )

    def _message(self, stored: StoredEvent) -> Message:
        return event_message(self.site, stored)

    async def _write(self) -> None:
        """Group commit: everything offered since the last commit, in one transaction."""
        while True:
            batch = [await self._queue.get()]
            while len(batch) < _BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            items: list[tuple[Message, list[str]]] = []
            top: int | None = None
            for item in batch:
                if isinstance(item, StoredEvent):
                    if item.seq <= self._cursor:
                        continue  # already there (caught up from the store at start)
                    message = self._message(item)
                    top = item.seq if top is None else max(top, item.seq)
                else:
                    message = item
                items.append((message, self._sinks_for(message)))
            delay = 0.5
            while True:
                try:
                    await self.outbox.add(items, store_seq=top)
                    break
                except OutboxError as exc:
                    # The events are safe in the event store; the next start catches up
                    # from it. Meanwhile keep trying, without spinning. A full disk is
                    # expected trouble, not a bug: its reason, without a traceback.
                    _LOGGER.error("relay: cannot write the outbox (%s); retrying", exc)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 30.0)
            if top is not None:
                self._cursor = max(self._cursor, top)
            self._written += len(batch)
            async with self._written_changed:
                self._written_changed.notify_all()
            for sink in self._sinks():
                sink.wake()

    async def _telemetry(self) -> None:
        host = self._host
        assert host is not None
        interval = self.config.telemetry_interval
        loop = asyncio.get_running_loop()
        next_full = loop.time()
        while True:
            timeout = max(0.0, next_full - loop.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dirty_event.wait(), timeout)
            if loop.time() >= next_full:
                next_full = loop.time() + interval
                wanted = [str(device["id"]) for device in host.devices()]
                self._dirty.clear()
            else:
                wanted = sorted(self._dirty)
                self._dirty.clear()
            self._dirty_event.clear()
            for device_id in wanted:
                try:
                    state = host.device_state(device_id)
                except KeyError:
                    continue
                self.offer_telemetry(device_id, state)

    def _heartbeat_body(self, status: Mapping[str, Any]) -> tuple[str, bytes]:
        return heartbeat_body(self.site, self._clock(), status, self.profile)

    async def status(self) -> dict[str, Any]:
        """The relay's state: what each sink owes, the oldest undelivered alarm, counters."""
        outbox = self.outbox
        counts = await outbox.counts()
        oldest = await outbox.oldest_alarm_at()
        return {
            "pending": counts,
            "pending_alarms": max((c.get("alarm", 0) for c in counts.values()), default=0),
            "oldest_undelivered_alarm_age_s": (
                None if oldest is None else round(max(0.0, self._clock() - oldest), 3)
            ),
            "outbox_bytes": outbox.size,
            "outbox": outbox.metrics.as_dict(),
            "sinks": {sink.name: sink.status() for sink in self._sinks()},
            "remote_commands": (
                None
                if self.commands is None
                else {"accepted": self.commands.accepted, "rejected": self.commands.rejected}
            ),
        }

    async def _endpoint_gone(self, sink: WebhookSink, reason: str) -> None:
        dropped = await self.outbox.disable_sink(sink.name, sink.settings.url, reason)
        await self.record(
            BridgeEvent(
                EventType.RELAY_ENDPOINT_DISABLED,
                self._clock(),
                data={
                    "sink": sink.name,
                    "endpoint": sink.settings.id,
                    "url": public_url(sink.settings.url),
                    "reason": reason,
                    "dropped": dropped,
                },
            )
        )
