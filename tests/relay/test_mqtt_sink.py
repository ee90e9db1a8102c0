"""The MQTT sink against a real Mosquitto (TLS, passwords, persistence)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from electrical_safety_bridge.relay.messages import Priority

from .conftest import SITE, Rigs
from .helpers import Broker, Collector, Pki, alarm, offline, wait_for

pytestmark = pytest.mark.usefixtures("socket_enabled")

DEVICES = ("d1", "d2", "d3", "d4")


def first_seen(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each event id once, at its first arrival."""
    seen: set[str] = set()
    out = []
    for event in events:
        if event["id"] not in seen:
            seen.add(event["id"])
            out.append(event)
    return out


def per_device_numbers(events: list[dict[str, Any]], type_: str) -> dict[str, list[int]]:
    numbers: dict[str, list[int]] = defaultdict(list)
    for event in events:
        if event["type"] == type_:
            numbers[event["device_id"]].append(event["data"]["n"])
    return dict(numbers)


async def test_alarms_arrive_in_order_per_device(
    broker: Broker, collector: Collector, rigs: Rigs
) -> None:
    rig = await rigs.make({"mqtt": broker.relay_mqtt()})
    per_device = 50
    sent = []
    for n in range(per_device):
        batch = [alarm(device, n) for device in DEVICES]
        if n % 5 == 0:
            batch += [offline(device, n) for device in DEVICES]
        sent.extend(await rig.emit_many(batch))

    await wait_for(
        lambda: len({e["id"] for e in collector.events()}) >= len(sent),
        what="every event received",
    )
    received = first_seen(collector.events())
    print(f"sent {len(sent)} events, received {len(collector.events())} ({len(received)} distinct)")
    assert {e["id"] for e in received} == {s.id for s in sent}
    numbers = per_device_numbers(received, "alarm_raised")
    assert numbers == {device: list(range(per_device)) for device in DEVICES}
    # Ordinary events keep their own per-device order too.
    assert per_device_numbers(received, "device_offline") == {
        device: list(range(0, per_device, 5)) for device in DEVICES
    }
    # The topic layout: <prefix>/<site>/<device>/event/<type>, QoS 1, not retained.
    topics = {m.topic for m in collector.received if "/event/" in m.topic}
    assert f"electrical_safety/{SITE}/d1/event/alarm_raised" in topics
    assert f"electrical_safety/{SITE}/d1/event/device_offline" in topics
    # Each body carries the store's id and seq.
    by_id = {s.id: s for s in sent}
    for event in received:
        assert event["seq"] == by_id[event["id"]].seq
        assert event["site"] == SITE
    await wait_for(lambda: rig.relay.outbox.sync.counts() == {}, what="outbox empty")


async def test_birth_and_heartbeat(broker: Broker, collector: Collector, rigs: Rigs) -> None:
    rig = await rigs.make({"mqtt": broker.relay_mqtt(), "heartbeat": 0.1})
    await wait_for(lambda: collector.on(f"{SITE}/status"), what="status")
    assert collector.on(f"{SITE}/status")[-1].payload == b"online"
    await wait_for(lambda: len(collector.on(f"{SITE}/heartbeat")) >= 2, what="two heartbeats")
    beat = collector.on(f"{SITE}/heartbeat")[-1].json()
    assert beat["type"] == "heartbeat"
    assert beat["site"] == SITE
    assert beat["data"]["pending_alarms"] == 0
    assert beat["data"]["sinks"]["mqtt"]["connected"] is True
    await rigs.close(rig)
    # A clean stop says offline (the will covers the unclean ones).
    await wait_for(lambda: collector.on(f"{SITE}/status")[-1].payload == b"offline")


async def test_broker_down_then_back_nothing_lost(
    broker: Broker, collector: Collector, rigs: Rigs
) -> None:
    rig = await rigs.make({"mqtt": broker.relay_mqtt()})
    sent = list(await rig.emit_many([alarm("d1", n) for n in range(100)]))
    await wait_for(lambda: len(collector.events()) >= 20, what="some delivered")

    await broker.stop()
    await wait_for(lambda: not rig.relay.mqtt.connected, what="relay sees the broker gone")
    # The broker is down: events keep coming and wait in the outbox.
    sent += await rig.emit_many([alarm("d1", n) for n in range(100, 300)])
    sent += await rig.emit_many([offline("d2", n) for n in range(50)])
    await rig.relay.flush()
    pending = rig.relay.outbox.sync.counts().get("mqtt", {})
    assert pending.get("alarm", 0) >= 200, pending

    await broker.start()
    await wait_for(
        lambda: {e["id"] for e in collector.events()} >= {s.id for s in sent},
        timeout=20,
        what="every event after the broker came back",
    )
    received = collector.events()
    distinct = first_seen(received)
    print(
        f"sent {len(sent)}, received {len(received)} messages, {len(distinct)} distinct,"
        f" {len(received) - len(distinct)} duplicates"
    )
    assert len(distinct) == len(sent)
    assert per_device_numbers(distinct, "alarm_raised") == {"d1": list(range(300))}
    assert rig.relay.mqtt.connects >= 2
    await wait_for(lambda: rig.relay.outbox.sync.counts() == {}, what="outbox empty")


async def test_telemetry_goes_to_a_retained_state_topic(
    broker: Broker, collector: Collector, rigs: Rigs
) -> None:
    class Host:
        def devices(self) -> list[dict[str, Any]]:
            return [{"id": "d1"}]

        def device_state(self, device_id: str) -> dict[str, Any]:
            return {"id": device_id, "online": True, "values": {"rc": 12}, "alarms": {}}

    rig = await rigs.make({"mqtt": broker.relay_mqtt(), "telemetry_interval": 30}, host=Host())
    await wait_for(lambda: collector.on("/d1/state"), what="a state snapshot")
    state = collector.on("/d1/state")[0]
    body = state.json()
    assert body["kind"] == "telemetry"
    assert body["data"]["values"] == {"rc": 12}
    # An alarm makes a fresh snapshot at once, without waiting for the interval.
    await rig.emit(alarm("d1", 1))
    await wait_for(lambda: len(collector.on("/d1/state")) >= 2, what="snapshot after alarm")
    # A new subscriber gets the retained state.
    late = Collector(broker, topic=f"electrical_safety/{SITE}/d1/state", identifier="late")
    await late.start()
    try:
        await wait_for(lambda: late.received, what="retained state")
        assert late.received[0].retain
    finally:
        await late.stop()


async def test_tls_client_certificate(tmp_path: Path, pki: Pki, rigs: Rigs) -> None:
    broker = Broker(tmp_path / "strict", pki, require_certificate=True)
    await broker.start()
    try:
        collector = Collector(broker)
        await collector.start()
        rig = await rigs.make({"mqtt": broker.relay_mqtt()})
        stored = await rig.emit(alarm("d1", 0))
        await wait_for(lambda: collector.events(), what="event over mutual TLS")
        assert collector.events()[0]["id"] == stored.id
        await collector.stop()
    finally:
        await broker.kill()


async def test_wrong_password_keeps_events_and_says_why(
    broker: Broker, collector: Collector, rigs: Rigs
) -> None:
    rig = await rigs.make({"mqtt": broker.relay_mqtt(password="wrong")})
    await rig.emit(alarm("d1", 0))
    await rig.relay.flush()
    await wait_for(lambda: rig.relay.mqtt.last_error is not None, what="a connect error")
    assert not rig.relay.mqtt.connected
    assert rig.relay.outbox.sync.counts() == {"mqtt": {Priority.ALARM.name.lower(): 1}}
    assert not collector.events()
    assert "wrong" not in json.dumps(await rig.relay.status())


async def test_unusable_tls_files_are_reported_and_retried(
    tmp_path: Path, broker: Broker, rigs: Rigs
) -> None:
    missing = tmp_path / "no-such-ca.crt"
    rig = await rigs.make({"mqtt": broker.relay_mqtt(ca_file=str(missing))})
    await rig.emit(alarm("d1", 0))
    mqtt = rig.relay.mqtt
    assert mqtt is not None
    await wait_for(lambda: (mqtt.last_error or "").startswith("TLS files"), what="TLS error")
    assert not mqtt.connected
    # The file appears (the user fixed it): the next attempt connects and delivers.
    missing.write_bytes(broker.pki.ca.read_bytes())
    await wait_for(lambda: rig.relay.outbox.sync.counts() == {}, what="delivered after the fix")
