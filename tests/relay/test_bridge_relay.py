"""The relay inside a running bridge: simulated detectors to a landlord's broker and back."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from electrical_safety_bridge.bus.bus_settings import BusSettings, DeviceSpec, PollIntervals
from electrical_safety_bridge.common.enums import ContractUnit, EventType, Region, SupplySystem
from electrical_safety_bridge.common.site import Contract
from electrical_safety_bridge.config.bridge_config import BridgeConfig, BusConfig
from electrical_safety_bridge.config.site_config import SiteConfig
from electrical_safety_bridge.modbus.lines import TcpLine
from electrical_safety_bridge.profiles.loader import find_profile
from electrical_safety_bridge.relay.mqtt_discovery import discovery_messages
from electrical_safety_bridge.relay.mqtt_sink import MqttSink
from electrical_safety_bridge.service import Bridge
from electrical_safety_bridge.simulator import SimulatedBus, SimulatedUnit

from .conftest import SITE, join_store_threads, parse_relay
from .helpers import Broker, Collector, wait_for
from .test_remote_commands import LANDLORD_KEY, envelope, public_b64

pytestmark = pytest.mark.usefixtures("socket_enabled")

#: The site the bridge serves: a flat in Tokyo, named by the relay's site id.
FLAT = SiteConfig(
    name="Sakura Heights 201",
    id=SITE,
    region=Region.JP,
    latitude=35.6812,
    longitude=139.7671,
    supply_system=SupplySystem.SINGLE_PHASE_3WIRE,
    contracts=(Contract(ContractUnit.KVA, 6.0),),
)


@pytest.fixture
async def sim() -> AsyncIterator[SimulatedBus]:
    bus = SimulatedBus([SimulatedUnit(find_profile("ASJ"), 1)])
    await bus.serve_tcp("127.0.0.1", 0)
    try:
        yield bus
    finally:
        await bus.stop()


@pytest.fixture
async def bridge(tmp_path: Path, sim: SimulatedBus, broker: Broker) -> AsyncIterator[Bridge]:
    port = sim.servers[0].port
    settings = BusSettings(
        "line",
        TcpLine("127.0.0.1", port),
        intervals=PollIntervals(alarm=0.05, telemetry=0.2, slow=1.0),
        tcp_timeout=0.25,
    )
    relay = parse_relay(
        {
            "mqtt": broker.relay_mqtt(discovery=True),
            "remote_commands": {
                "enabled": True,
                "keys": [{"id": "landlord", "public_key": public_b64(LANDLORD_KEY)}],
            },
            "telemetry_interval": 30,
        }
    )
    config = BridgeConfig(
        data_dir=tmp_path / "data",
        buses=(BusConfig(settings, (DeviceSpec("asj", 1, find_profile("ASJ"), "Relay"),)),),
        api_port=0,
        relay=relay,
        site=FLAT,
    )
    bridge = Bridge(config)
    await bridge.start()
    try:
        yield bridge
    finally:
        await bridge.stop()
        join_store_threads()


async def test_an_alarm_reaches_the_landlord_who_acknowledges_it_remotely(
    bridge: Bridge, sim: SimulatedBus, broker: Broker, collector: Collector
) -> None:
    relay = bridge.relay
    assert relay is not None and relay.mqtt is not None
    await wait_for(lambda: relay.mqtt.ready, what="relay subscribed")
    # Discovery: the landlord's Home Assistant learns the site and the detector.
    expected = dict(
        discovery_messages(
            site=SITE,
            topic_prefix="electrical_safety",
            discovery_prefix="homeassistant",
            devices=bridge.devices(),
            profile=bridge.site(),
        )
    )
    await wait_for(lambda: {m.topic for m in collector.received} >= set(expected), what="discovery")
    configs = {m.topic: m for m in collector.received if m.topic in expected}
    assert all(m.json() == expected[t] for t, m in configs.items())
    alarm_configs = [c.json() for t, c in configs.items() if t.endswith("_alarm/config")]
    assert alarm_configs and all(c["device_class"] == "safety" for c in alarm_configs)
    assert all(t.startswith("homeassistant/") and f"/{SITE}/" in t for t in configs)

    sim.unit(1).set("alarm_status", "alarm")
    await wait_for(lambda: collector.on("/asj/event/alarm_raised"), what="the alarm off-site")
    raised = collector.on("/asj/event/alarm_raised")[0].json()
    stored = await bridge.store.query(types=[EventType.ALARM_RAISED])
    assert raised["id"] == stored[0].id
    alarm_id = raised["data"]["id"]
    # The retained state follows the alarm without waiting for the telemetry interval.
    await wait_for(
        lambda: any(m.json()["data"]["open_alarms"] for m in collector.on("/asj/state")),
        what="state with the open alarm",
    )

    # The detector is locked out for maintenance: a remote close says so (and is refused).
    await bridge.lock_out("asj", "electrician", "rewiring the kitchen", None, "api")
    async with broker.client("landlord-tool") as tool:
        ack, _ = envelope(LANDLORD_KEY, action="acknowledge", alarm_id=alarm_id)
        close, _ = envelope(LANDLORD_KEY, action="close", device_id="asj")
        await tool.publish(f"electrical_safety/{SITE}/command", ack, qos=1)
        await tool.publish(f"electrical_safety/{SITE}/command", close, qos=1)

    await wait_for(
        lambda: collector.on("/asj/event/alarm_acknowledged"), what="the acknowledgement relayed"
    )
    acked = collector.on("/asj/event/alarm_acknowledged")[0].json()
    assert acked["data"]["acknowledged_by"] == "remote:landlord"
    await wait_for(lambda: len(collector.on("/event/remote_command")) >= 2, what="verdicts")
    verdicts = [m.json()["data"] for m in collector.on("/event/remote_command")]
    assert [(v["action"], v["reason"]) for v in verdicts] == [
        ("acknowledge", "accepted"),
        ("close", "locked_out"),
    ]
    # The remote acknowledgement acknowledged the alarm's hazard too, recorded as remote.
    hazard = bridge.hazards.by_alarm(alarm_id)
    assert hazard is not None and hazard.state == "acknowledged"
    assert hazard.acknowledged is not None
    assert (hazard.acknowledged.who, hazard.acknowledged.source) == ("remote:landlord", "remote")
    recorded = await bridge.store.query(types=[EventType.REMOTE_COMMAND, EventType.COMMAND])
    assert [e.type for e in recorded] == [EventType.REMOTE_COMMAND] * 2  # no close was run
    print(
        f"alarm raised at {raised['time']}, relayed; 2 remote commands sent, "
        f"{len(verdicts)} verdicts recorded; {len(configs)} discovery configs"
    )
    assert json.dumps(await relay.status())
    assert time.time() - raised["at"] < 60


def _ready(bridge: Bridge) -> MqttSink:
    relay = bridge.relay
    assert relay is not None and relay.mqtt is not None
    return relay.mqtt


async def test_the_site_and_its_location_reach_the_landlords_map(
    bridge: Bridge, broker: Broker, collector: Collector
) -> None:
    sink = _ready(bridge)
    await wait_for(lambda: sink.ready, what="relay subscribed")
    site_topic = f"electrical_safety/{SITE}/site"
    tracker_topic = f"homeassistant/device_tracker/{SITE}/site_location/config"
    await wait_for(
        lambda: collector.on(site_topic) and collector.on(tracker_topic),
        what="the site's profile and its map marker",
    )
    # The profile, as the bridge's API gives it, retained: a landlord's Home Assistant
    # subscribing later gets it.
    late = Collector(broker, topic=site_topic, identifier="late")
    await late.start()
    try:
        await wait_for(lambda: late.received, what="the retained profile")
        (profile,) = late.received
        assert profile.retain
    finally:
        await late.stop()
    body = profile.json()
    assert (body["site"], body["kind"]) == (SITE, "site")
    assert body["data"] == bridge.site()
    assert (body["data"]["name"], body["data"]["region"]) == ("Sakura Heights 201", "jp")
    assert (body["data"]["latitude"], body["data"]["longitude"]) == (35.6812, 139.7671)
    # A GPS tracker of the site's device, placed by the profile's latitude and longitude.
    tracker = collector.on(tracker_topic)[0].json()
    assert tracker["source_type"] == "gps"
    assert tracker["json_attributes_topic"] == site_topic
    assert tracker["device"]["name"] == "Sakura Heights 201"
    assert "availability_topic" not in tracker
    # The heartbeat carries the profile too: a webhook receiver has no retained topic.
    await wait_for(lambda: collector.on(f"{SITE}/heartbeat"), what="a heartbeat")
    beat = collector.on(f"{SITE}/heartbeat")[0].json()
    assert beat["site_profile"] == bridge.site()
