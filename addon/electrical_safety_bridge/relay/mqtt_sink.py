"""The MQTT sink: the outbox to a broker over MQTT v5, with its own reconnect loop.

Connection: MQTT v5 over TCP or TLS (a CA file, optionally a client certificate), username and
password, a stable client id (``esb-<site>`` unless configured) and a persistent session
(``clean_start`` false, a session expiry of a week by default), so commands published while
the home is offline wait at the broker. aiomqtt 2.x does not reconnect by itself; :meth:`run`
loops with exponential backoff and jitter, logging once when the broker goes away and once
when it is back.

Topics (``<prefix>`` is ``electrical_safety`` by default, ``<device>`` is ``_site`` for events
of no device):

* ``<prefix>/<site>/status``: retained ``online`` (birth, after each connect) and ``offline``
  (the last will, and on a clean stop);
* ``<prefix>/<site>/site``: retained JSON of the site's profile (name, region, location),
  after each birth;
* ``<prefix>/<site>/heartbeat``: retained JSON every ``heartbeat`` seconds, with the outbox's
  depth and the age of the oldest undelivered alarm;
* ``<prefix>/<site>/<device>/event/<type>``: every stored event, QoS 1, not retained;
* ``<prefix>/<site>/<device>/state``: the device's telemetry snapshot, QoS 1, retained;
* ``<prefix>/<site>/<device>/gap``: telemetry coalesced away under pressure, QoS 1;
* ``<prefix>/<site>/command``: subscribed (QoS 1) when remote commands are on; the verdict
  is published to the MQTT v5 response topic if the command gave one.

Delivery: up to ``max_inflight`` publishes are in flight; each outbox row is acknowledged only
after its PUBACK. A publish that fails ends the session, and the next session starts again from
the oldest unacknowledged row, so a broker outage costs duplicates, never losses. Every
payload is the JSON body of :mod:`.messages`, whose ``id`` is the event store's id.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import random
import re
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ..common.site import Site
from .aio import first_of
from .messages import KIND_GAP, KIND_TELEMETRY, SITE_DEVICE, Message, Priority, site_body
from .mqtt_discovery import discovery_messages
from .outbox import AsyncOutbox, OutboxError, Pending
from .relay_settings import MqttSettings
from .remote_commands import RemoteCommands

_LOGGER = logging.getLogger(__name__)

SINK_NAME = "mqtt"
ONLINE = b"online"
OFFLINE = b"offline"
_LEVEL = re.compile(r"[^A-Za-z0-9_.-]")
_STOP_GRACE_S = 3.0
#: While the outbox cannot record deliveries (a full disk), they are tried again this often.
_ACK_RETRY_S = 1.0


def topic_level(text: str) -> str:
    """A string made safe as one topic level (no ``/``, ``+``, ``#`` or odd characters)."""
    return _LEVEL.sub("_", text) or "_"


class _TlsFilesError(Exception):
    """The CA file or the client certificate cannot be used (missing, unreadable, wrong)."""


class _Stopping(Exception):
    """Raised inside a session's task group to end it cleanly."""


class MqttSink:
    """Delivers the outbox to one broker; also heartbeat, discovery and remote commands."""

    name = SINK_NAME

    def __init__(
        self,
        settings: MqttSettings,
        *,
        site: str,
        outbox: AsyncOutbox,
        heartbeat: float,
        status: Callable[[], Awaitable[Mapping[str, Any]]],
        heartbeat_body: Callable[[Mapping[str, Any]], tuple[str, bytes]],
        devices: Callable[[], list[dict[str, Any]]] | None = None,
        commands: RemoteCommands | None = None,
        profile: Site | None = None,
    ) -> None:
        self.settings = settings
        self.profile = profile
        self.site = site
        self.client_id = settings.client_id or f"esb-{site}"
        base = f"{settings.topic_prefix}/{site}"
        self.base = base
        self.status_topic = f"{base}/status"
        self.heartbeat_topic = f"{base}/heartbeat"
        self.site_topic = f"{base}/site"
        self.command_topic = f"{base}/command"
        self.ha_status_topic = f"{settings.discovery_prefix}/status"
        self._outbox = outbox
        self._heartbeat_s = heartbeat
        self._status = status
        self._heartbeat_body = heartbeat_body
        self._devices = devices
        self._commands = commands
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._acks: list[tuple[int, int]] = []
        self._acks_failing = False
        self._ack_ready = asyncio.Event()
        self._ack_lock = asyncio.Lock()
        self._command_lock = asyncio.Lock()
        self._tls: ssl.SSLContext | None = None
        self.connected = False
        self.ready = False  # connected, birth published and subscriptions made
        self.connects = 0
        self.published = 0
        #: When the broker last took a message (seconds since the epoch), for the web UI.
        self.last_delivered_at: float | None = None
        self.last_error: str | None = None

    # -- control ------------------------------------------------------------------------

    def wake(self) -> None:
        """New rows are in the outbox."""
        self._wake.set()

    def stop(self) -> None:
        """Ask :meth:`run` to finish: in-flight publishes, then ``offline``, then disconnect."""
        self._stop.set()

    def status(self) -> dict[str, Any]:
        """For the heartbeat and diagnostics."""
        return {
            "connected": self.connected,
            "ready": self.ready,
            "connects": self.connects,
            "published": self.published,
            "last_delivered_at": self.last_delivered_at,
            "last_error": self.last_error,
        }

    def topic(self, message: Message) -> tuple[str, bool]:
        """The topic of a message and whether it is retained."""
        device = topic_level(message.device_id) if message.device_id else SITE_DEVICE
        if message.kind == KIND_TELEMETRY:
            return f"{self.base}/{device}/state", True
        if message.kind == KIND_GAP:
            return f"{self.base}/{device}/gap", False
        return f"{self.base}/{device}/event/{topic_level(message.type)}", False

    # -- the reconnect loop -------------------------------------------------------------

    async def run(self) -> None:
        """Connect, deliver, and reconnect with backoff until :meth:`stop`."""
        settings = self.settings
        delay = settings.reconnect_min
        down_since: float | None = None
        while not self._stop.is_set():
            try:
                if settings.tls and self._tls is None:
                    self._tls = await self._load_tls()
                client = self._client()
                async with client:
                    self.connected = True
                    self.connects += 1
                    if down_since is not None:
                        _LOGGER.info(
                            "relay: back on MQTT broker %s:%d after %.0f s",
                            settings.host,
                            settings.port,
                            time.monotonic() - down_since,
                        )
                        down_since = None
                    else:
                        _LOGGER.info(
                            "relay: connected to MQTT broker %s:%d as %s",
                            settings.host,
                            settings.port,
                            self.client_id,
                        )
                    delay = settings.reconnect_min
                    await self._session(client)
            except aiomqtt.MqttError as exc:
                self.last_error = str(exc) or type(exc).__name__
                if down_since is None:
                    down_since = time.monotonic()
                    _LOGGER.warning(
                        "relay: MQTT broker %s:%d unavailable (%s); events wait in the outbox",
                        settings.host,
                        settings.port,
                        self.last_error,
                    )
                else:
                    _LOGGER.debug("relay: MQTT reconnect failed: %s", self.last_error)
            except _TlsFilesError as exc:
                self.last_error = f"TLS files: {exc}"
                if down_since is None:
                    down_since = time.monotonic()
                    _LOGGER.error("relay: cannot use the MQTT TLS files: %s", exc)
            except Exception as exc:
                # A bug must not end delivery for good: log it and reconnect.
                self.last_error = f"{type(exc).__name__}: {exc}"
                down_since = down_since or time.monotonic()
                _LOGGER.exception("relay: MQTT session failed")
            finally:
                self.connected = self.ready = False
            await self._flush_acks()
            if self._stop.is_set():
                break
            pause = delay * random.uniform(0.5, 1.0)
            delay = min(delay * 2, settings.reconnect_max)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), pause)

    async def _load_tls(self) -> ssl.SSLContext:
        try:
            return await asyncio.to_thread(self._tls_context)
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            raise _TlsFilesError(str(exc)) from exc

    def _tls_context(self) -> ssl.SSLContext:
        settings = self.settings
        context = ssl.create_default_context(
            cafile=str(settings.ca_file) if settings.ca_file else None
        )
        if settings.cert_file is not None:
            context.load_cert_chain(
                str(settings.cert_file),
                str(settings.key_file) if settings.key_file else None,
            )
        return context

    def _client(self) -> aiomqtt.Client:
        settings = self.settings
        connect = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        connect.SessionExpiryInterval = settings.session_expiry
        client = aiomqtt.Client(
            settings.host,
            settings.port,
            username=settings.username,
            password=settings.password,
            identifier=self.client_id,
            protocol=aiomqtt.ProtocolVersion.V5,
            will=aiomqtt.Will(self.status_topic, OFFLINE, qos=1, retain=True),
            clean_start=False,
            keepalive=settings.keepalive,
            properties=connect,
            tls_context=self._tls,
            max_inflight_messages=settings.max_inflight,
            timeout=10,
            logger=_LOGGER.getChild("client"),
        )
        client.pending_calls_threshold = settings.max_inflight + 50
        return client

    # -- one session --------------------------------------------------------------------

    async def _session(self, client: aiomqtt.Client) -> None:
        """Birth, subscriptions, then deliver/heartbeat/listen until disconnect or stop."""
        await client.publish(self.status_topic, ONLINE, qos=1, retain=True)
        if self.profile is not None:
            body = site_body(self.profile, time.time())
            await client.publish(self.site_topic, body, qos=1, retain=True)
        if self._commands is not None:
            await client.subscribe(self.command_topic, qos=1)
        if self.settings.discovery:
            await client.subscribe(self.ha_status_topic, qos=1)
            await self._publish_discovery(client)
        self.ready = True
        delivered = asyncio.Event()
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._deliver(client, group, delivered))
                group.create_task(self._beat(client))
                group.create_task(self._listen(client, group))
                group.create_task(self._until_stopped(delivered))
                group.create_task(self._ack_loop())
        except* _Stopping:
            with contextlib.suppress(aiomqtt.MqttError):
                await client.publish(self.status_topic, OFFLINE, qos=1, retain=True, timeout=2)
        except* aiomqtt.MqttError as group_error:
            raise group_error.exceptions[0] from None

    async def _until_stopped(self, delivered: asyncio.Event) -> None:
        await self._stop.wait()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(delivered.wait(), _STOP_GRACE_S)
        raise _Stopping

    async def _deliver(
        self, client: aiomqtt.Client, group: asyncio.TaskGroup, delivered: asyncio.Event
    ) -> None:
        """Publish the outbox in order, at most ``max_inflight`` unacknowledged at a time."""
        await self._flush_acks()
        window = asyncio.Semaphore(self.settings.max_inflight)
        after = dict.fromkeys((int(p) for p in Priority), 0)
        inflight: set[asyncio.Task[None]] = set()
        while not self._stop.is_set():
            self._wake.clear()
            rows = await self._outbox.fetch(self.name, after, self.settings.max_inflight)
            if not rows:
                await first_of(self._wake.wait(), self._stop.wait())
                continue
            for row in rows:
                after[int(row.message.priority)] = row.id
                await window.acquire()
                task = group.create_task(self._publish(client, row, window))
                inflight.add(task)
                task.add_done_callback(inflight.discard)
        if inflight:
            await asyncio.wait(inflight)
        await self._flush_acks()
        delivered.set()

    async def _publish(
        self, client: aiomqtt.Client, row: Pending, window: asyncio.Semaphore
    ) -> None:
        try:
            message = row.message
            topic, retain = self.topic(message)
            # No MQTT v5 properties: the id is in the body, and paho builds properties
            # slowly enough to halve the throughput.
            await client.publish(topic, message.body, qos=1, retain=retain, timeout=30)
            self._acks.append((int(message.priority), row.id))
            self._ack_ready.set()
            self.published += 1
            self.last_delivered_at = time.time()
        finally:
            window.release()

    async def _ack_loop(self) -> None:
        """Forget confirmed rows in batches: whatever was confirmed while the last batch ran."""
        while True:
            await self._ack_ready.wait()
            self._ack_ready.clear()
            if not await self._flush_acks():
                await asyncio.sleep(_ACK_RETRY_S)  # the outbox cannot write now: not a spin
                self._ack_ready.set()

    async def _flush_acks(self) -> bool:
        """Record the confirmed rows; False if the outbox cannot write them now.

        A full disk must not end delivery: the confirmations are kept and recorded later.
        Until then a reconnect may send those rows again, which receivers dedupe by id.
        """
        async with self._ack_lock:
            while self._acks:
                batch, self._acks = self._acks, []
                try:
                    await self._outbox.ack(self.name, batch)
                except OutboxError as exc:
                    self._acks = batch + self._acks
                    if not self._acks_failing:
                        _LOGGER.warning("relay: cannot record deliveries for now: %s", exc)
                    self._acks_failing = True
                    return False
            if self._acks_failing:
                _LOGGER.info("relay: deliveries are recorded again")
            self._acks_failing = False
            return True

    async def _beat(self, client: aiomqtt.Client) -> None:
        while True:
            _, body = self._heartbeat_body(await self._status())
            await client.publish(self.heartbeat_topic, body, qos=1, retain=True)
            await asyncio.sleep(self._heartbeat_s)

    async def _listen(self, client: aiomqtt.Client, group: asyncio.TaskGroup) -> None:
        async for message in client.messages:
            if message.topic.matches(self.command_topic) and self._commands is not None:
                group.create_task(self._command(client, message))
            elif message.topic.matches(self.ha_status_topic) and message.payload == ONLINE:
                # Home Assistant restarted: it wants the discovery configs again.
                group.create_task(self._publish_discovery(client))

    async def _command(self, client: aiomqtt.Client, message: aiomqtt.Message) -> None:
        commands = self._commands
        assert commands is not None
        payload = message.payload
        raw = payload if isinstance(payload, bytes) else str(payload or "").encode("utf-8")
        async with self._command_lock:
            try:
                verdict = await commands.handle(raw)
            except Exception:
                # A message the checks did not foresee must not end the session: the broker
                # would hand the same message over again on reconnecting (QoS 1, persistent
                # session), and events would stop going out for good.
                _LOGGER.exception(
                    "relay: a remote command (sha256 %s) could not be checked; dropped",
                    hashlib.sha256(raw).hexdigest(),
                )
                return
        props = message.properties
        response_topic = getattr(props, "ResponseTopic", None) if props is not None else None
        if response_topic:
            reply = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            correlation = getattr(props, "CorrelationData", None)
            if correlation is not None:
                reply.CorrelationData = correlation
            body = _json(verdict.as_dict())
            with contextlib.suppress(ValueError):
                await client.publish(response_topic, body, qos=1, properties=reply)

    async def _publish_discovery(self, client: aiomqtt.Client) -> None:
        devices = self._devices() if self._devices is not None else []
        for topic, payload in discovery_messages(
            site=self.site,
            topic_prefix=self.settings.topic_prefix,
            discovery_prefix=self.settings.discovery_prefix,
            devices=devices,
            profile=None if self.profile is None else self.profile.to_dict(),
        ):
            await client.publish(topic, _json(payload), qos=1, retain=True)


def _json(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
