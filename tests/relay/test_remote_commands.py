"""Signed remote commands over the MQTT subscription: accepted, or rejected and recorded."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from electrical_safety_bridge.common.enums import EventType
from electrical_safety_bridge.relay.remote_commands import Reason
from electrical_safety_bridge.relay.signing import command_payload, sign_command
from electrical_safety_bridge.safety.alarms import UnknownAlarm

from .conftest import SITE, Rigs
from .helpers import Broker, Collector, wait_for

pytestmark = pytest.mark.usefixtures("socket_enabled")

LANDLORD_KEY = Ed25519PrivateKey.generate()
STRANGER_KEY = Ed25519PrivateKey.generate()
COMMAND_TOPIC = f"electrical_safety/{SITE}/command"
REPLIES = "landlord/replies"


def public_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def envelope(
    key: Ed25519PrivateKey, key_id: str = "landlord", **fields: Any
) -> tuple[bytes, dict[str, Any]]:
    """A command signed by ``key`` the way a landlord's tool would, written out here."""
    payload = {
        "command_id": fields.pop("command_id", None) or f"c-{time.monotonic_ns()}",
        "site": fields.pop("site", SITE),
        "issued_at": fields.pop("issued_at", time.time()),
        **fields,
    }
    text = json.dumps(payload)
    signature = base64.b64encode(key.sign(text.encode())).decode()
    return json.dumps({"key_id": key_id, "payload": text, "signature": signature}).encode(), payload


@dataclass
class FakeBridge:
    """Stands in for the bridge: two devices, one open alarm; remembers what it was asked."""

    devices: set[str] = field(default_factory=lambda: {"d1", "d2"})
    alarms: dict[str, str] = field(default_factory=lambda: {"a1": "d1"})
    acknowledged: list[tuple[str, str]] = field(default_factory=list)
    commands: list[tuple[str, str, str]] = field(default_factory=list)

    def has_device(self, device_id: str) -> bool:
        return device_id in self.devices

    locked: set[str] = field(default_factory=set)

    def alarm_device(self, alarm_id: str) -> str | None:
        return self.alarms.get(alarm_id)

    def locked_out(self, device_id: str) -> bool:
        return device_id in self.locked

    async def acknowledge(self, alarm_id: str, who: str) -> None:
        if alarm_id not in self.alarms:
            raise UnknownAlarm(alarm_id)
        self.acknowledged.append((alarm_id, who))

    async def command(self, device_id: str, name: str, who: str) -> Mapping[str, Any]:
        self.commands.append((device_id, name, who))
        return {"device_id": device_id, "command": name, "outcome": "confirmed"}


def remote_section(broker: Broker, **remote: Any) -> dict[str, Any]:
    return {
        "mqtt": broker.relay_mqtt(),
        "remote_commands": {
            "enabled": True,
            "keys": [{"id": "landlord", "public_key": public_b64(LANDLORD_KEY)}],
            **remote,
        },
    }


async def test_signed_commands_accepted_and_every_bad_one_rejected_and_recorded(
    broker: Broker, collector: Collector, rigs: Rigs
) -> None:
    bridge = FakeBridge()
    rig = await rigs.make(remote_section(broker), target=bridge)
    await wait_for(lambda: rig.relay.mqtt.ready, what="relay subscribed")

    ack, ack_payload = envelope(LANDLORD_KEY, action="acknowledge", alarm_id="a1")
    test_d1, _ = envelope(LANDLORD_KEY, action="self_test", device_id="d1")
    good, _ = envelope(LANDLORD_KEY, action="mute", device_id="d2")
    tampered_envelope = json.loads(good)
    tampered_envelope["payload"] = tampered_envelope["payload"].replace('"d2"', '"d1"')
    tampered = json.dumps(tampered_envelope).encode()
    cases: list[tuple[str, bytes, Reason]] = [
        ("acknowledge", ack, Reason.ACCEPTED),
        ("self-test", test_d1, Reason.ACCEPTED),
        ("tampered", tampered, Reason.BAD_SIGNATURE),
        ("replayed", ack, Reason.REPLAYED),
        (
            "stale",
            envelope(LANDLORD_KEY, action="mute", device_id="d1", issued_at=time.time() - 400)[0],
            Reason.STALE,
        ),
        (
            "from the future",
            envelope(LANDLORD_KEY, action="mute", device_id="d1", issued_at=time.time() + 400)[0],
            Reason.STALE,
        ),
        (
            "unknown key",
            envelope(STRANGER_KEY, key_id="stranger", action="mute", device_id="d1")[0],
            Reason.UNKNOWN_KEY,
        ),
        (
            "stranger claiming the landlord's key",
            envelope(STRANGER_KEY, action="mute", device_id="d1")[0],
            Reason.BAD_SIGNATURE,
        ),
        (
            "close",
            envelope(LANDLORD_KEY, action="close", device_id="d1")[0],
            Reason.CLOSE_NOT_ALLOWED,
        ),
        (
            "trip, not enabled",
            envelope(LANDLORD_KEY, action="trip", device_id="d1")[0],
            Reason.TRIP_NOT_ENABLED,
        ),
        (
            "not allowed",
            envelope(LANDLORD_KEY, action="reboot", device_id="d1")[0],
            Reason.ACTION_NOT_ALLOWED,
        ),
        (
            "another site",
            envelope(LANDLORD_KEY, action="mute", device_id="d1", site="home-2")[0],
            Reason.WRONG_SITE,
        ),
        ("garbage", b"\x00not json", Reason.MALFORMED),
    ]
    async with broker.client("landlord-tool") as tool:
        for index, (_, message, _) in enumerate(cases):
            properties = Properties(PacketTypes.PUBLISH)
            properties.ResponseTopic = REPLIES
            properties.CorrelationData = str(index).encode()
            await tool.publish(COMMAND_TOPIC, message, qos=1, properties=properties)

    def recorded() -> list[Any]:
        return [e for e in rig_events if e.type is EventType.REMOTE_COMMAND]

    rig_events: list[Any] = []

    async def all_recorded() -> bool:
        rig_events[:] = await rig.stored()
        return len(recorded()) >= len(cases)

    await wait_for(all_recorded, what="every command recorded")
    verdicts = [e.data for e in recorded()]
    accepted = [v for v in verdicts if v["accepted"]]
    print(
        f"sent {len(cases)} commands; recorded {len(verdicts)}: {len(accepted)} accepted,"
        f" {len(verdicts) - len(accepted)} rejected"
    )
    assert [v["reason"] for v in verdicts] == [reason.value for _, _, reason in cases]
    assert len(accepted) == 2
    # Only the accepted ones reached the bridge, as "remote:<key id>".
    assert bridge.acknowledged == [("a1", "remote:landlord")]
    assert bridge.commands == [("d1", "self_test", "remote:landlord")]
    assert verdicts[0]["command_id"] == ack_payload["command_id"]
    assert verdicts[1]["result"]["outcome"] == "confirmed"
    # Rejections say why, and forged ones are marked unverified.
    assert not verdicts[2]["signature_verified"]
    assert verdicts[8]["signature_verified"] and verdicts[8]["message"]
    # Verdicts are relayed too (they are events), and each command got its reply.
    await wait_for(lambda: len(collector.on(REPLIES)) >= len(cases), what="replies")
    replies = {json.loads(m.payload)["reason"] for m in collector.on(REPLIES)}
    assert replies == {reason.value for _, _, reason in cases}
    await wait_for(
        lambda: len([e for e in collector.events() if e["type"] == "remote_command"]) >= len(cases)
    )
    status = await rig.relay.status()
    assert status["remote_commands"] == {"accepted": 2, "rejected": len(cases) - 2}


async def test_trip_only_when_enabled_and_replays_survive_a_restart(
    broker: Broker, rigs: Rigs
) -> None:
    bridge = FakeBridge()
    section = remote_section(broker, allow_trip=True)
    rig = await rigs.make(section, target=bridge)
    trip, _ = envelope(LANDLORD_KEY, action="trip", device_id="d2")
    verdict = await rig.relay.commands.handle(trip)
    assert verdict.accepted, verdict
    assert bridge.commands == [("d2", "trip", "remote:landlord")]
    close = envelope(LANDLORD_KEY, action="close", device_id="d2")[0]
    assert (await rig.relay.commands.handle(close)).reason is Reason.CLOSE_NOT_ALLOWED
    bridge.locked.add("d2")
    close = envelope(LANDLORD_KEY, action="close", device_id="d2")[0]
    assert (await rig.relay.commands.handle(close)).reason is Reason.LOCKED_OUT
    unknown = envelope(LANDLORD_KEY, action="mute", device_id="d9")[0]
    assert (await rig.relay.commands.handle(unknown)).reason is Reason.UNKNOWN_DEVICE
    no_alarm = envelope(LANDLORD_KEY, action="acknowledge", alarm_id="a9")[0]
    assert (await rig.relay.commands.handle(no_alarm)).reason is Reason.UNKNOWN_ALARM

    await rigs.close(rig)
    again = await rigs.make(section, target=bridge)
    assert (await again.relay.commands.handle(trip)).reason is Reason.REPLAYED
    assert bridge.commands == [("d2", "trip", "remote:landlord")]


async def test_the_signing_helper_makes_commands_the_bridge_accepts(
    broker: Broker, rigs: Rigs
) -> None:
    bridge = FakeBridge()
    rig = await rigs.make(remote_section(broker), target=bridge)
    payload = command_payload(site=SITE, action="mute", device_id="d1")
    verdict = await rig.relay.commands.handle(sign_command(LANDLORD_KEY, "landlord", payload))
    assert verdict.accepted
    assert bridge.commands == [("d1", "mute", "remote:landlord")]


async def test_a_flood_of_rejections_is_rate_limited_in_the_store(
    broker: Broker, rigs: Rigs
) -> None:
    now = 1_800_000_000.0  # a fixed clock: the limit is per minute
    rig = await rigs.make(remote_section(broker), target=FakeBridge(), clock=lambda: now)
    for _ in range(70):
        await rig.relay.commands.handle(b"junk")
    good = envelope(LANDLORD_KEY, action="mute", device_id="d1", issued_at=now)[0]
    await rig.relay.commands.handle(good)
    await rig.relay.flush()
    events = [e for e in await rig.stored() if e.type is EventType.REMOTE_COMMAND]
    assert len(events) == 61  # 60 rejections a minute, then the accepted one
    assert events[-1].data["accepted"]
    assert events[-1].data["suppressed_rejections"] == 10
    assert rig.relay.commands.rejected == 70
