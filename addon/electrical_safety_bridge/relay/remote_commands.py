"""Signed remote commands: checked, de-duplicated, allow-listed, executed, and always recorded.

Commands arrive only over the MQTT sink's subscription to ``<prefix>/<site>/command``; the
bridge opens no inbound port for them. They are off unless ``relay.remote_commands.enabled``.

A command is accepted only if, in this order:

1. the envelope is JSON of at most 8 KiB with ``key_id``, ``payload`` (a JSON text) and
   ``signature`` (base64) (else ``malformed``);
2. ``key_id`` names a key in the configuration (``unknown_key``);
3. the Ed25519 signature over the payload's exact UTF-8 bytes verifies (``bad_signature``);
4. the payload is a command for this site (``wrong_site``), issued within ±window seconds of
   the bridge's clock and not past its ``expires_at`` (``stale``);
5. its ``command_id`` was not seen before (``replayed``; ids are kept twice the window, after
   which a replay is stale anyway). Only commands that pass 1-4 burn their id, so a forged
   message cannot block a genuine one;
6. the action is allowed: ``close`` never (``locked_out`` when the device is locked out for
   maintenance, else ``close_not_allowed``), ``trip`` only with
   ``allow_trip`` (``trip_not_enabled``), others only if listed (``action_not_allowed``);
7. the device (``unknown_device``) or the alarm (``unknown_alarm``) exists.

Then it runs through the bridge like a local command (``who`` is ``remote:<key_id>``), so the
close interlock and the verified-profile rule still apply. Every command, accepted or not, is
recorded in the event store as a ``remote_command`` event with its reason; rejections are
rate-limited (the suppressed count is recorded with the next one) so a flood of garbage cannot
fill the store.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from ..common.enums import EventType
from ..common.parsing import unencodable_text
from ..common.workflow import Lockout
from ..safety.alarms import AlarmBook, UnknownAlarm
from ..safety.commands import CommandResult
from ..safety.events import BridgeEvent
from .outbox import AsyncOutbox
from .relay_settings import RemoteCommandSettings
from .signing import public_key, verify

_LOGGER = logging.getLogger(__name__)

MAX_ENVELOPE_BYTES = 8192
#: The source a remote command's steps are recorded with (a hazard's ``Actor.source``).
REMOTE_SOURCE = "remote"
REJECTIONS_PER_MINUTE = 60


class Reason(StrEnum):
    """Why a command was accepted or rejected (machine-readable)."""

    ACCEPTED = "accepted"
    MALFORMED = "malformed"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    WRONG_SITE = "wrong_site"
    STALE = "stale"
    REPLAYED = "replayed"
    CLOSE_NOT_ALLOWED = "close_not_allowed"
    LOCKED_OUT = "locked_out"
    TRIP_NOT_ENABLED = "trip_not_enabled"
    ACTION_NOT_ALLOWED = "action_not_allowed"
    UNKNOWN_DEVICE = "unknown_device"
    UNKNOWN_ALARM = "unknown_alarm"
    NO_TARGET = "no_target"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What became of one command."""

    accepted: bool
    reason: Reason
    message: str
    command_id: str | None = None
    action: str | None = None
    device_id: str | None = None
    alarm_id: str | None = None
    key_id: str | None = None
    verified: bool = False
    digest: str = ""
    result: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The event data (and the reply)."""
        return {
            "accepted": self.accepted,
            "reason": self.reason.value,
            "message": self.message,
            "command_id": self.command_id,
            "action": self.action,
            "device_id": self.device_id,
            "alarm_id": self.alarm_id,
            "key_id": self.key_id,
            "signature_verified": self.verified,
            "sha256": self.digest,
            "result": None if self.result is None else dict(self.result),
            **self.extra,
        }


class CommandTarget(Protocol):
    """What executes accepted commands: the bridge, or a stand-in in tests."""

    def has_device(self, device_id: str) -> bool:
        """Whether the device exists."""
        ...

    def alarm_device(self, alarm_id: str) -> str | None:
        """The device of an open alarm, or None if no such alarm is open."""
        ...

    def locked_out(self, device_id: str) -> bool:
        """Whether the device is locked out for maintenance (close refused)."""
        ...

    async def acknowledge(self, alarm_id: str, who: str) -> None:
        """Acknowledge an open alarm and its hazard (UnknownAlarm if it is not open)."""
        ...

    async def command(self, device_id: str, name: str, who: str) -> Mapping[str, Any]:
        """Run a device command through the bus; its result."""
        ...


class _CommandBus(Protocol):
    async def command(self, device_id: str, name: str, who: str = ...) -> CommandResult: ...


class _BridgeLike(Protocol):
    @property
    def device_bus(self) -> Mapping[str, _CommandBus]: ...

    @property
    def alarms(self) -> AlarmBook: ...

    async def acknowledge(
        self, alarm_id: str, who: str, source: str | None = ...
    ) -> list[BridgeEvent]: ...

    def lockout_of(self, device_id: str) -> Lockout | None: ...


class BridgeTarget:
    """A :class:`CommandTarget` over the running bridge."""

    def __init__(self, bridge: _BridgeLike) -> None:
        self._bridge = bridge

    def has_device(self, device_id: str) -> bool:
        """Whether the bridge polls this device."""
        return device_id in self._bridge.device_bus

    def alarm_device(self, alarm_id: str) -> str | None:
        """The device of an open alarm."""
        for alarm in self._bridge.alarms.open_alarms():
            if alarm.id == alarm_id:
                return alarm.device_id
        return None

    def locked_out(self, device_id: str) -> bool:
        """Whether the bridge holds a lock-out of this device."""
        return self._bridge.lockout_of(device_id) is not None

    async def acknowledge(self, alarm_id: str, who: str) -> None:
        """Acknowledge through the bridge (recorded like any acknowledgement; the hazard's
        step records the source "remote")."""
        await self._bridge.acknowledge(alarm_id, who, source=REMOTE_SOURCE)

    async def command(self, device_id: str, name: str, who: str) -> Mapping[str, Any]:
        """Queue the command on the device's bus, ahead of every poll."""
        result = await self._bridge.device_bus[device_id].command(device_id, name, who)
        return result.as_dict()


class _Rejected(Exception):
    def __init__(self, reason: Reason, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class RemoteCommands:
    """Checks and runs the commands the MQTT sink hands over."""

    def __init__(
        self,
        settings: RemoteCommandSettings,
        *,
        site: str,
        outbox: AsyncOutbox,
        target: CommandTarget | None,
        record: Callable[[BridgeEvent], Awaitable[None]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.site = site
        self._outbox = outbox
        self._target = target
        self._record = record
        self._clock = clock
        self._keys = {key.id: public_key(key.public_key) for key in settings.keys}
        self.accepted = 0
        self.rejected = 0
        self._minute = 0
        self._recorded_this_minute = 0
        self._suppressed = 0

    async def handle(self, raw: bytes) -> Verdict:
        """Check, run and record one command message."""
        verdict = await self._decide(raw)
        if verdict.accepted:
            self.accepted += 1
            _LOGGER.warning(
                "remote command %s accepted: %s %s (key %s)",
                verdict.command_id,
                verdict.action,
                verdict.device_id or verdict.alarm_id or "",
                verdict.key_id,
            )
        else:
            self.rejected += 1
            _LOGGER.warning(
                "remote command %s rejected: %s (%s)",
                verdict.command_id or "(no id)",
                verdict.reason.value,
                verdict.message,
            )
        await self._store(verdict)
        return verdict

    async def _store(self, verdict: Verdict) -> None:
        data = verdict.as_dict()
        if not verdict.accepted:
            minute = int(self._clock() // 60)
            if minute != self._minute:
                self._minute, self._recorded_this_minute = minute, 0
            if self._recorded_this_minute >= REJECTIONS_PER_MINUTE:
                self._suppressed += 1
                return
            self._recorded_this_minute += 1
        if self._suppressed:
            data["suppressed_rejections"] = self._suppressed
            self._suppressed = 0
        await self._record(
            BridgeEvent(
                EventType.REMOTE_COMMAND,
                self._clock(),
                device_id=verdict.device_id if verdict.verified else None,
                data=data,
            )
        )

    async def _decide(self, raw: bytes) -> Verdict:
        digest = hashlib.sha256(raw).hexdigest()
        facts: dict[str, Any] = {"digest": digest}
        try:
            payload = self._authenticate(raw, facts)
            facts["verified"] = True
            await self._check(payload, facts)
        except _Rejected as exc:
            return Verdict(False, exc.reason, str(exc), **facts)
        return await self._run(facts)

    def _authenticate(self, raw: bytes, facts: dict[str, Any]) -> dict[str, Any]:
        """Steps 1-3: the envelope, the key, the signature. The verified payload."""
        if len(raw) > MAX_ENVELOPE_BYTES:
            raise _Rejected(Reason.MALFORMED, f"larger than {MAX_ENVELOPE_BYTES} bytes")
        try:
            envelope = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise _Rejected(Reason.MALFORMED, "not JSON") from None
        if not isinstance(envelope, dict):
            raise _Rejected(Reason.MALFORMED, "not a JSON object")
        if (where := unencodable_text(envelope)) is not None:
            # Recorded and replied in UTF-8, and signed over UTF-8: a lone surrogate escape
            # would fail there instead, and take the command subscription down with it.
            raise _Rejected(Reason.MALFORMED, f"'{where}' is not valid Unicode (a lone surrogate)")
        key_id, text, signature = (envelope.get(k) for k in ("key_id", "payload", "signature"))
        if not all(isinstance(v, str) for v in (key_id, text, signature)):
            raise _Rejected(Reason.MALFORMED, "key_id, payload and signature must be strings")
        assert isinstance(key_id, str) and isinstance(text, str) and isinstance(signature, str)
        facts["key_id"] = key_id[:64]
        key = self._keys.get(key_id)
        if key is None:
            raise _Rejected(Reason.UNKNOWN_KEY, "signed by a key that is not configured")
        try:
            signature_bytes = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            raise _Rejected(Reason.MALFORMED, "the signature is not base64") from None
        if not verify(key, signature_bytes, text.encode("utf-8")):
            raise _Rejected(Reason.BAD_SIGNATURE, "the signature does not match the payload")
        try:
            payload = json.loads(text)
        except ValueError:
            raise _Rejected(Reason.MALFORMED, "the signed payload is not JSON") from None
        if not isinstance(payload, dict):
            raise _Rejected(Reason.MALFORMED, "the signed payload is not a JSON object")
        if (where := unencodable_text(payload)) is not None:
            raise _Rejected(
                Reason.MALFORMED, f"the signed payload's '{where}' is not valid Unicode"
            )
        return payload

    async def _check(self, payload: dict[str, Any], facts: dict[str, Any]) -> None:
        """Steps 4-7 on an authentic payload."""
        command_id, action = payload.get("command_id"), payload.get("action")
        device_id, alarm_id = payload.get("device_id"), payload.get("alarm_id")
        if not isinstance(command_id, str) or not 1 <= len(command_id) <= 128:
            raise _Rejected(Reason.MALFORMED, "command_id must be a string of 1-128 characters")
        facts["command_id"] = command_id
        if not isinstance(action, str):
            raise _Rejected(Reason.MALFORMED, "action must be a string")
        facts["action"] = action[:64]
        for name, value in (("device_id", device_id), ("alarm_id", alarm_id)):
            if value is not None and not isinstance(value, str):
                raise _Rejected(Reason.MALFORMED, f"{name} must be a string")
        facts["device_id"], facts["alarm_id"] = device_id, alarm_id
        if payload.get("site") != self.site:
            raise _Rejected(Reason.WRONG_SITE, f"addressed to another site, not {self.site}")
        now = self._clock()
        issued_at = payload.get("issued_at")
        if not _number(issued_at):
            raise _Rejected(Reason.MALFORMED, "issued_at must be seconds since the epoch")
        assert isinstance(issued_at, int | float)
        window = self.settings.window
        if abs(now - issued_at) > window:
            raise _Rejected(
                Reason.STALE,
                f"issued {now - issued_at:+.0f} s from the bridge's clock (window ±{window:g} s)",
            )
        expires_at = payload.get("expires_at")
        if expires_at is not None and (not _number(expires_at) or now > expires_at):
            raise _Rejected(Reason.STALE, "past its expires_at")
        if not await self._outbox.remember_command(command_id, now, 2 * window):
            raise _Rejected(Reason.REPLAYED, "this command_id was already received")
        if action == "close":
            target = self._target
            if isinstance(device_id, str) and target is not None and target.locked_out(device_id):
                raise _Rejected(
                    Reason.LOCKED_OUT, f"{device_id} is locked out for maintenance: close refused"
                )
            raise _Rejected(Reason.CLOSE_NOT_ALLOWED, "remote close is never accepted")
        if action == "trip" and not self.settings.allow_trip:
            raise _Rejected(Reason.TRIP_NOT_ENABLED, "remote trip is not enabled on this bridge")
        if action not in self.settings.actions:
            allowed = ", ".join(sorted(self.settings.actions))
            raise _Rejected(Reason.ACTION_NOT_ALLOWED, f"'{action}' is not allowed ({allowed})")
        target = self._target
        if target is None:
            raise _Rejected(Reason.NO_TARGET, "this relay has no bridge to run commands")
        if action == "acknowledge":
            if alarm_id is None:
                raise _Rejected(Reason.MALFORMED, "acknowledge needs alarm_id")
            owner = target.alarm_device(alarm_id)
            if owner is None or (device_id is not None and owner != device_id):
                raise _Rejected(Reason.UNKNOWN_ALARM, "no such open alarm")
            facts["device_id"] = owner
        elif device_id is None or not target.has_device(device_id):
            raise _Rejected(Reason.UNKNOWN_DEVICE, "no such device on this bridge")

    async def _run(self, facts: dict[str, Any]) -> Verdict:
        target = self._target
        assert target is not None
        who = f"remote:{facts['key_id']}"
        action = str(facts["action"])
        if action == "acknowledge":
            try:
                await target.acknowledge(str(facts["alarm_id"]), who)
            except UnknownAlarm:
                return Verdict(False, Reason.UNKNOWN_ALARM, "no such open alarm", **facts)
            result: Mapping[str, Any] = {"outcome": "acknowledged", "who": who}
        else:
            try:
                result = await target.command(str(facts["device_id"]), action, who)
            except Exception as exc:  # the bus is down, the device vanished: say so
                _LOGGER.exception("remote command %s failed", facts.get("command_id"))
                result = {"outcome": "failed", "message": f"{type(exc).__name__}: {exc}"}
        return Verdict(True, Reason.ACCEPTED, "accepted and run", result=result, **facts)


def _number(value: object) -> bool:
    """A finite number of seconds: an integer too large for a float is none (math.isfinite
    raises OverflowError on it, which would end the command subscription)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False
