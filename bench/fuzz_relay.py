"""Fuzz the relay's remote commands: random, mutated and validly signed command messages.

The messages go to :meth:`RemoteCommands.handle`, the parser the MQTT sink hands every
payload of ``<prefix>/<site>/command`` to, wired as the relay wires it: a real outbox (which
remembers command ids) and a real event store that records every verdict. The broker is left
out here because it adds nothing to the parsing: Mosquitto hands the payload over as bytes,
whatever they are; tests/fuzz/test_fuzz_relay.py sends a few of these messages through the
real Mosquitto to the real sink as well.

Cases: random bytes; random JSON; envelopes with missing, extra and mistyped keys, unknown
keys, signatures that are not base64 or do not match; and payloads signed with the
configured key whose fields are mutated (command ids, actions, devices, alarms, sites, times:
huge integers, NaN, strings, lone surrogates).

The oracle: each message gets a verdict within a bound, without an exception; a rejection
names its reason and says why; the verdict is recorded in the event store and its reply
encodes as the sink sends it (UTF-8 JSON); nothing is accepted that is not signed, fresh,
for this site and allowed, and a close never reaches the bridge; a valid command is still
accepted afterwards.

Run it with ``.venv-bridge/bin/python bench/fuzz_relay.py --cases 100000``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TextIO

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench._fuzz import (
    FuzzConfig,
    Report,
    fuzz_main,
    interesting,
    mutate_bytes,
    mutate_json,
    random_bytes,
    random_json,
)
from electrical_safety_bridge.relay.outbox import AsyncOutbox
from electrical_safety_bridge.relay.relay_settings import CommandKey, RemoteCommandSettings
from electrical_safety_bridge.relay.remote_commands import Reason, RemoteCommands, Verdict
from electrical_safety_bridge.relay.signing import public_key_text
from electrical_safety_bridge.safety.alarms import UnknownAlarm
from electrical_safety_bridge.safety.events import BridgeEvent
from electrical_safety_bridge.storage.event_store import AsyncEventStore

SITE: Final = "home-1"
KEY_ID: Final = "landlord"
#: One message may take this long (the outbox and the store each write to SQLite).
VERDICT_BOUND_S: Final = 10.0
#: A valid command is sent after every this many cases.
PROBE_EVERY: Final = 10


@dataclass
class Target:
    """The bridge's side of an accepted command, standing in for a bus: the fuzzer judges
    the parser, and what reaches here is what the parser let through."""

    acknowledged: list[str] = field(default_factory=list)
    commands: list[tuple[str, str]] = field(default_factory=list)

    def has_device(self, device_id: str) -> bool:
        return device_id in ("d1", "d2")

    def alarm_device(self, alarm_id: str) -> str | None:
        return "d1" if alarm_id == "a1" else None

    def locked_out(self, device_id: str) -> bool:
        return device_id == "d2"

    async def acknowledge(self, alarm_id: str, who: str) -> None:
        if alarm_id != "a1":
            raise UnknownAlarm(alarm_id)
        self.acknowledged.append(alarm_id)

    async def command(self, device_id: str, name: str, who: str) -> Mapping[str, Any]:
        self.commands.append((device_id, name))
        return {"device_id": device_id, "command": name, "outcome": "confirmed"}


def envelope(key: Ed25519PrivateKey, text: str, key_id: str = KEY_ID) -> bytes:
    """An envelope of ``text`` signed by ``key`` (text that UTF-8 cannot carry: unsigned)."""
    try:
        signature = base64.b64encode(key.sign(text.encode("utf-8"))).decode("ascii")
    except UnicodeEncodeError:
        signature = ""
    return json.dumps({"key_id": key_id, "payload": text, "signature": signature}).encode()


def good_payload(rng: random.Random, action: str | None = None) -> dict[str, Any]:
    """A command the bridge accepts: fresh, for this site, allowed, for a known target."""
    chosen = action or rng.choice(("acknowledge", "self_test", "mute"))
    payload: dict[str, Any] = {
        "command_id": f"c-{rng.getrandbits(64):x}-{time.monotonic_ns()}",
        "site": SITE,
        "action": chosen,
        "issued_at": time.time(),
    }
    if chosen == "acknowledge":
        payload["alarm_id"] = "a1"
    else:
        payload["device_id"] = "d1"
    return payload


_FIELD_VALUES: Final[dict[str, tuple[Any, ...]]] = {
    "action": ("close", "trip", "reboot", "Close", "close ", "acknowledge", "mute", "self_test"),
    "device_id": ("d1", "d2", "d3", "", "d1\u0000"),
    "alarm_id": ("a1", "a2", ""),
    "site": (SITE, "home-2", "HOME-1", ""),
    "command_id": ("c", "x" * 128, "x" * 129, ""),
    "issued_at": (0, -1, 10**400, 1e308, "now", 2**63),
    "expires_at": (0, 10**400, 1e308, "never", 2**63),
}


def mutated_payload(rng: random.Random) -> dict[str, Any]:
    payload = good_payload(rng)
    for _ in range(rng.randint(1, 3)):
        key = rng.choice(list(_FIELD_VALUES))
        roll = rng.random()
        if roll < 0.5:
            payload[key] = rng.choice(_FIELD_VALUES[key])
        elif roll < 0.8:
            payload[key] = interesting(rng)
        else:
            payload.pop(key, None)
    if payload.get("issued_at") == "now":
        payload["issued_at"] = time.time() + rng.choice((-400, 400))
    return payload


def case_message(rng: random.Random, key: Ed25519PrivateKey, stranger: Ed25519PrivateKey) -> bytes:
    """One message, of one of the shapes a broken or hostile publisher sends."""
    roll = rng.random()
    if roll < 0.1:
        return random_bytes(rng, 0, 200)
    if roll < 0.2:
        return json.dumps(random_json(rng)).encode()
    good = envelope(key, json.dumps(good_payload(rng)))
    if roll < 0.3:
        return mutate_bytes(rng, good)
    if roll < 0.45:
        return json.dumps(mutate_json(rng, json.loads(good))).encode()
    if roll < 0.5:
        return envelope(stranger, json.dumps(good_payload(rng)), rng.choice((KEY_ID, "stranger")))
    if roll < 0.55:  # signed, but not a JSON object
        return envelope(key, rng.choice(("", "[]", "null", "{", '"x"', "1e999", "NaN")))
    if roll < 0.6:  # a well-formed envelope whose strings UTF-8 cannot carry
        return json.dumps(
            {
                "key_id": rng.choice((KEY_ID, "\ud800", "k\udfff")),
                "payload": rng.choice(("\ud800", json.dumps(good_payload(rng)))),
                "signature": rng.choice(("\udc00", "AAAA")),
            }
        ).encode()
    if roll < 0.63:
        return b"\xff\xfe" + good
    return envelope(key, json.dumps(mutated_payload(rng)))


def _acceptable(message: bytes) -> str | None:
    """Why an accepted message should not have been (None: it may be)."""
    envelope_ = json.loads(message)
    payload = json.loads(envelope_["payload"])
    if envelope_.get("key_id") != KEY_ID:
        return "accepted with another key"
    if payload.get("site") != SITE:
        return "accepted for another site"
    if payload.get("action") not in ("acknowledge", "self_test", "mute"):
        return f"accepted action {payload.get('action')!r}"
    issued = payload.get("issued_at")
    if not isinstance(issued, int | float) or abs(time.time() - issued) > 301:
        return f"accepted issued_at {issued!r}"
    return None


@dataclass
class Rig:
    commands: RemoteCommands
    store: AsyncEventStore
    target: Target
    recorded: list[BridgeEvent]


@contextlib.asynccontextmanager
async def running_rig(key: Ed25519PrivateKey) -> AsyncIterator[Rig]:
    """RemoteCommands on a real outbox, recording into a real event store, in a temp dir."""
    with tempfile.TemporaryDirectory(prefix="fuzz-relay-") as folder:
        store = await AsyncEventStore.open(Path(folder) / "events.sqlite")
        outbox = await AsyncOutbox.open(Path(folder) / "outbox.sqlite", site=SITE, max_bytes=2**26)
        recorded: list[BridgeEvent] = []

        async def record(event: BridgeEvent) -> None:
            await store.append(event)  # as Relay.record does: the store first
            recorded.append(event)

        settings = RemoteCommandSettings(
            enabled=True, keys=(CommandKey(KEY_ID, public_key_text(key)),)
        )
        target = Target()
        commands = RemoteCommands(settings, site=SITE, outbox=outbox, target=target, record=record)
        try:
            yield Rig(commands, store, target, recorded)
        finally:
            await outbox.close()
            await store.close()


def judge(report: Report, message: bytes, verdict: Verdict) -> None:
    """Check one verdict against the oracle."""
    try:
        # What MqttSink._command publishes as the reply.
        json.dumps(verdict.as_dict(), separators=(",", ":"), ensure_ascii=False).encode()
    except (TypeError, ValueError) as exc:
        report.found("unsendable_reply", message, f"{type(exc).__name__}: {exc}")
    if verdict.accepted:
        why = _acceptable(message)
        if why is not None:
            report.found("wrongly_accepted", message, why)
        report.count("accepted")
        return
    if not verdict.message or verdict.reason is Reason.ACCEPTED:
        report.found("unclear_error", message, f"rejected as {verdict.reason} saying nothing")
    report.count(f"rejected_{verdict.reason.value}")


async def fuzz(config: FuzzConfig) -> Report:
    """Send ``config.cases`` messages, and a valid command after every ``PROBE_EVERY``."""
    rng = random.Random(config.seed)
    # Keys from the seed too, so that a run repeats exactly.
    key = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
    stranger = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
    report = Report("relay")
    async with running_rig(key) as rig:
        for index in range(config.cases):
            if report.enough:
                break
            message = case_message(rng, key, stranger)
            report.cases += 1
            before = len(rig.recorded)
            try:
                verdict = await asyncio.wait_for(rig.commands.handle(message), VERDICT_BOUND_S)
            except TimeoutError:
                report.found("hang", message, f"no verdict in {VERDICT_BOUND_S} s")
                continue
            except Exception as exc:
                report.found("crash", message, f"{type(exc).__name__}: {exc}")
                continue
            judge(report, message, verdict)
            if len(rig.recorded) == before and verdict.accepted:
                report.found("unrecorded", message, "an accepted command left no event")
            if index % PROBE_EVERY == PROBE_EVERY - 1:
                probe = envelope(key, json.dumps(good_payload(rng, "mute")))
                try:
                    answer = await asyncio.wait_for(rig.commands.handle(probe), VERDICT_BOUND_S)
                except Exception as exc:
                    report.found("unresponsive", message, f"a valid command after it: {exc!r}")
                    continue
                if not answer.accepted:
                    report.found(
                        "unresponsive", message, f"a valid command after it: {answer.reason}"
                    )
        if any(name == "close" for _, name in rig.target.commands):
            report.found("close_reached_bridge", b"", "a remote close reached the bridge")
        report.count("recorded_events", len(rig.recorded))
        report.count("commands_run", len(rig.target.commands) + len(rig.target.acknowledged))
    return report


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Fuzz and print ``name: value`` lines; exit 1 if anything was found."""
    return fuzz_main(__doc__, fuzz, argv, out, default_cases=20000)


if __name__ == "__main__":
    sys.exit(main())
