"""The webhook sink: the outbox to one HTTPS endpoint, signed the Standard Webhooks way.

Each configured endpoint is its own sink with its own secret, its own event filter and its own
place in the outbox. Messages go one at a time, in the outbox's order (alarms first, each
device's events in order), as ``POST <url>`` with the JSON body and the headers
``webhook-id`` (the event id, the same on every retry: the receiver's idempotency key),
``webhook-timestamp`` (the attempt's Unix time) and ``webhook-signature`` (``v1,<base64>``).

Outcomes:

* 2xx: delivered; the row is acknowledged.
* 410 Gone: the endpoint is disabled: nothing more is sent to it, what it was owed is dropped,
  the log says so, and a ``relay_endpoint_disabled`` event is recorded (and relayed by the
  other sinks). It stays disabled across restarts until its URL is changed.
* anything else (other status codes, redirects, timeouts, connection errors): retried with
  exponential backoff and jitter, from ``retry_min`` doubling to ``retry_max``; a
  ``Retry-After`` header (seconds or an HTTP date) sets the wait instead. Later messages
  wait behind the failing one, which keeps the order.

Heartbeats (if the endpoint's filter takes them) are posted every ``heartbeat`` seconds, are
never retried and never queued: a landlord alerts on their absence, as webhooks have no will.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from .aio import first_of
from .messages import HEARTBEAT_TYPE, KIND_HEARTBEAT, Priority
from .outbox import AsyncOutbox, OutboxError, Pending
from .relay_settings import WebhookSettings
from .signing import webhook_headers

_LOGGER = logging.getLogger(__name__)

_FETCH = 20
MAX_RETRY_AFTER_S = 3600.0


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def public_url(url: str) -> str:
    """The URL without credentials or query string (which may hold a token), for logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class Gone(Exception):
    """The endpoint answered 410 Gone."""


class WebhookSink:
    """Delivers the outbox to one endpoint."""

    def __init__(
        self,
        settings: WebhookSettings,
        *,
        outbox: AsyncOutbox,
        retry_min: float,
        retry_max: float,
        heartbeat: float,
        status: Callable[[], Awaitable[Mapping[str, Any]]],
        heartbeat_body: Callable[[Mapping[str, Any]], tuple[str, bytes]],
        on_gone: Callable[[WebhookSink, str], Awaitable[None]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.name = f"webhook:{settings.id}"
        self._outbox = outbox
        self._retry_min = retry_min
        self._retry_max = retry_max
        self._heartbeat_s = heartbeat
        self._status = status
        self._heartbeat_body = heartbeat_body
        self._on_gone = on_gone
        self._clock = clock
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self.disabled: str | None = None
        self.delivered = 0
        #: When the endpoint last took a message (seconds since the epoch), for the web UI.
        self.last_delivered_at: float | None = None
        self.attempts = 0
        self.failures = 0
        self.last_error: str | None = None
        self.last_status: int | None = None

    def wake(self) -> None:
        """New rows are in the outbox."""
        self._wake.set()

    def stop(self) -> None:
        """Ask :meth:`run` to finish (the message being retried stays in the outbox)."""
        self._stop.set()

    def status(self) -> dict[str, Any]:
        """For the heartbeat and diagnostics."""
        return {
            "delivered": self.delivered,
            "last_delivered_at": self.last_delivered_at,
            "attempts": self.attempts,
            "failures": self.failures,
            "last_status": self.last_status,
            "last_error": self.last_error,
            "disabled": self.disabled,
        }

    async def run(self) -> None:
        """Deliver until stopped or disabled; a bug restarts delivery, it does not end it."""
        while not self.disabled and not self._stop.is_set():
            try:
                await self._run()
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                _LOGGER.exception("relay: webhook %s failed; restarting", self.settings.id)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self._retry_min)
            else:
                return

    async def _run(self) -> None:
        ssl_context: ssl.SSLContext | bool = True
        if self.settings.ca_file is not None:
            ssl_context = await asyncio.to_thread(
                ssl.create_default_context, cafile=str(self.settings.ca_file)
            )
        timeout = aiohttp.ClientTimeout(total=self.settings.timeout)
        connector = aiohttp.TCPConnector(ssl=ssl_context, limit=2)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            try:
                async with asyncio.TaskGroup() as group:
                    group.create_task(self._deliver(session))
                    if self.settings.wants(KIND_HEARTBEAT, HEARTBEAT_TYPE):
                        group.create_task(self._beat(session))
            except* Gone:
                await self._gone()

    async def _gone(self) -> None:
        reason = f"{public_url(self.settings.url)} answered 410 Gone"
        self.disabled = reason
        _LOGGER.error(
            "relay: webhook %s disabled: %s; nothing more is sent to it until its url changes",
            self.settings.id,
            reason,
        )
        await self._on_gone(self, reason)

    async def _deliver(self, session: aiohttp.ClientSession) -> None:
        after = dict.fromkeys((int(p) for p in Priority), 0)
        while not self._stop.is_set():
            self._wake.clear()
            rows = await self._outbox.fetch(self.name, after, _FETCH)
            if not rows:
                await first_of(self._wake.wait(), self._stop.wait())
                continue
            for row in rows:
                if not await self._send_until_done(session, row):
                    return
                after[int(row.message.priority)] = row.id
                try:
                    await self._outbox.ack(self.name, [(int(row.message.priority), row.id)])
                except OutboxError as exc:
                    # A full disk must not stop delivery: the row stays in the outbox and is
                    # only sent again after a restart (receivers dedupe by webhook-id).
                    _LOGGER.warning(
                        "relay: webhook %s: cannot record a delivery: %s", self.settings.id, exc
                    )
                self.delivered += 1
                self.last_delivered_at = self._clock()
                if self._stop.is_set():
                    return
                if row.message.priority is not Priority.ALARM and self._wake.is_set():
                    break  # something new arrived: an alarm may now go first

    async def _send_until_done(self, session: aiohttp.ClientSession, row: Pending) -> bool:
        """Post one message until it is accepted; False if stopped first. Gone on 410."""
        failures = 0
        while True:
            status, retry_after, error = await self._post(
                session, row.message.event_id, row.message.body
            )
            if status is not None and 200 <= status < 300:
                if failures:
                    _LOGGER.info(
                        "relay: webhook %s accepting again after %d failed attempt(s)",
                        self.settings.id,
                        failures,
                    )
                return True
            if status == 410:
                raise Gone
            failures += 1
            self.failures += 1
            self.last_error = error
            delay = self._backoff(failures)
            if retry_after is not None:
                delay = min(retry_after, max(MAX_RETRY_AFTER_S, self._retry_max))
            log = _LOGGER.warning if failures == 1 else _LOGGER.debug
            log(
                "relay: webhook %s: %s; retry %d in %.2f s",
                self.settings.id,
                error,
                failures,
                delay,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)
            if self._stop.is_set():
                return False

    def _backoff(self, failures: int) -> float:
        """Exponential from ``retry_min`` to ``retry_max``, with jitter (half to all of it)."""
        ceiling = min(self._retry_max, self._retry_min * 2.0 ** min(failures - 1, 30))
        return float(ceiling * random.uniform(0.5, 1.0))

    async def _post(
        self, session: aiohttp.ClientSession, message_id: str, body: bytes
    ) -> tuple[int | None, float | None, str]:
        """One attempt: (status or None, Retry-After seconds or None, what went wrong)."""
        now = self._clock()
        headers = webhook_headers(self.settings.secret, message_id, int(now), body)
        self.attempts += 1
        try:
            async with session.post(
                self.settings.url, data=body, headers=headers, allow_redirects=False
            ) as response:
                await response.read()
                self.last_status = response.status
                retry_after = parse_retry_after(response.headers.get("Retry-After"), now)
                return response.status, retry_after, f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            self.last_status = None
            return None, None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__

    async def _beat(self, session: aiohttp.ClientSession) -> None:
        while not self._stop.is_set():
            beat_id, body = self._heartbeat_body(await self._status())
            status, _, error = await self._post(session, beat_id, body)
            if status == 410:
                raise Gone
            if status is None or not 200 <= status < 300:
                _LOGGER.debug("relay: webhook %s heartbeat: %s", self.settings.id, error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._heartbeat_s)
