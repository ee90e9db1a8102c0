"""Remote commands fuzzed (bench/fuzz_relay.py, a bounded seeded run), the bugs it found kept
as regression tests, and its nastiest messages sent through the real Mosquitto to the real
MQTT sink, which must stay subscribed and answer a valid command after them."""

from __future__ import annotations

import base64
import json
import random
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from bench._fuzz import FuzzConfig
from bench.fuzz_relay import envelope as signed_envelope
from bench.fuzz_relay import fuzz, good_payload, running_rig
from electrical_safety_bridge.relay.remote_commands import Reason

from .conftest import Rigs
from .helpers import Broker, Collector, wait_for
from .test_remote_commands import COMMAND_TOPIC, LANDLORD_KEY, FakeBridge, remote_section

pytestmark = pytest.mark.usefixtures("socket_enabled")

#: An envelope of the configured key's id whose payload is a lone surrogate escape: before
#: the fix, encoding it for the signature check raised UnicodeEncodeError out of handle().
LONE_SURROGATE_PAYLOAD = json.dumps(
    {"key_id": "landlord", "payload": "\ud800", "signature": "AAAA"}
).encode()
#: A key id that is a lone surrogate: rejected as unknown, its verdict then failed to be
#: stored (SQLite takes only UTF-8) and to be sent as the reply.
LONE_SURROGATE_KEY_ID = json.dumps(
    {"key_id": "\ud800", "payload": "{}", "signature": "AAAA"}
).encode()


async def test_fuzz_remote_commands_bounded_run() -> None:
    report = await fuzz(FuzzConfig(cases=600, seed=14))
    assert report.cases == 600
    assert report.findings == []
    # The run reached every stage: the signature, the checks, and commands that ran.
    assert report.counts["accepted"] > 0
    for reason in ("malformed", "bad_signature", "stale", "wrong_site", "replayed"):
        assert report.counts[f"rejected_{reason}"] > 0, reason


async def test_lone_surrogate_in_a_command_envelope_is_rejected_as_malformed() -> None:
    rng = random.Random(0)
    private = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
    async with running_rig(private) as rig:
        for message in (LONE_SURROGATE_PAYLOAD, LONE_SURROGATE_KEY_ID):
            verdict = await rig.commands.handle(message)
            assert verdict.reason is Reason.MALFORMED
            assert "not valid Unicode" in verdict.message
            json.dumps(verdict.as_dict(), ensure_ascii=False).encode()  # the reply
        # A signed payload whose command id is a lone surrogate escape, too.
        payload = good_payload(rng) | {"command_id": "\ud800"}
        verdict = await rig.commands.handle(signed_envelope(private, json.dumps(payload)))
        assert verdict.reason is Reason.MALFORMED
        assert "command_id" in verdict.message
        stored = await rig.store.query(limit=10)
        assert len(stored) == 3  # every verdict recorded


async def test_huge_integer_issued_at_is_rejected_as_malformed() -> None:
    rng = random.Random(1)
    private = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
    async with running_rig(private) as rig:
        for field in ("issued_at", "expires_at"):
            payload = good_payload(rng) | {field: 10**400}
            verdict = await rig.commands.handle(signed_envelope(private, json.dumps(payload)))
            assert not verdict.accepted
            assert verdict.reason in (Reason.MALFORMED, Reason.STALE), verdict
        assert rig.target.commands == []


async def test_fuzzed_messages_through_mosquitto_leave_the_sink_answering(
    broker: Broker, collector: Collector, rigs: Rigs
) -> None:
    bridge = FakeBridge()
    rig = await rigs.make(remote_section(broker), target=bridge)
    await wait_for(lambda: rig.relay.mqtt.ready, what="relay subscribed")
    nasty = [
        LONE_SURROGATE_PAYLOAD,
        LONE_SURROGATE_KEY_ID,
        b"\xff\xfe\x00",
        b"[" * 4000 + b"]" * 4000,
        b"x" * 9000,
        json.dumps({"key_id": "landlord", "payload": "{}", "signature": "!!"}).encode(),
    ]
    payload = {
        "command_id": f"c-{time.monotonic_ns()}",
        "site": "home-1",
        "action": "mute",
        "device_id": "d1",
        "issued_at": time.time(),
    }
    text = json.dumps(payload)
    signature = base64.b64encode(LANDLORD_KEY.sign(text.encode())).decode()
    valid = json.dumps({"key_id": "landlord", "payload": text, "signature": signature}).encode()
    async with broker.client("landlord-tool") as tool:
        for index, message in enumerate([*nasty, valid]):
            properties = Properties(PacketTypes.PUBLISH)
            properties.ResponseTopic = "landlord/replies"
            properties.CorrelationData = str(index).encode()
            await tool.publish(COMMAND_TOPIC, message, qos=1, properties=properties)
    # Every message got its reply, on the same subscription, and the valid one ran.
    await wait_for(
        lambda: len(collector.on("landlord/replies")) >= len(nasty) + 1, what="every reply"
    )
    replies = [json.loads(m.payload) for m in collector.on("landlord/replies")]
    assert [r["reason"] for r in replies[: len(nasty)]] == ["malformed"] * len(nasty)
    assert replies[-1]["accepted"]
    assert bridge.commands == [("d1", "mute", "remote:landlord")]


async def test_a_command_the_checks_fail_on_does_not_end_the_mqtt_session(
    broker: Broker, collector: Collector, rigs: Rigs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defence in depth behind the fixes above. Nothing real reaches this any more (every
    message the fuzzer makes gets a verdict), so the checks are made to fail on purpose."""
    bridge = FakeBridge()
    rig = await rigs.make(remote_section(broker), target=bridge)
    await wait_for(lambda: rig.relay.mqtt.ready, what="relay subscribed")
    commands = rig.relay.commands
    assert commands is not None
    real_handle = commands.handle

    async def failing_on_poison(raw: bytes) -> Any:
        if raw == b"poison":
            raise RuntimeError("a check that was never foreseen")
        return await real_handle(raw)

    monkeypatch.setattr(commands, "handle", failing_on_poison)
    payload = good_payload(random.Random(2)) | {"action": "mute", "device_id": "d1"}
    payload.pop("alarm_id", None)
    valid = signed_envelope(LANDLORD_KEY, json.dumps(payload))
    async with broker.client("landlord-tool") as tool:
        for message in (b"poison", valid):
            properties = Properties(PacketTypes.PUBLISH)
            properties.ResponseTopic = "landlord/replies"
            await tool.publish(COMMAND_TOPIC, message, qos=1, properties=properties)
    await wait_for(lambda: collector.on("landlord/replies"), what="the valid command's reply")
    assert json.loads(collector.on("landlord/replies")[0].payload)["accepted"]
    assert bridge.commands == [("d1", "mute", "remote:landlord")]
