"""A full disk at a site reaches the landlord: the relay sends a storage alert, and alarms
raised on the full disk still arrive. Real parts: the bridge with its relay on a small tmpfs
that the test fills, a real Mosquitto, and a subscriber standing in for the landlord."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from electrical_safety_bridge.bus.bus_settings import BusSettings, DeviceSpec, PollIntervals
from electrical_safety_bridge.config.bridge_config import BridgeConfig, BusConfig
from electrical_safety_bridge.modbus.lines import TcpLine
from electrical_safety_bridge.profiles.loader import find_profile
from electrical_safety_bridge.service import Bridge
from electrical_safety_bridge.simulator import SimulatedBus, SimulatedUnit
from tests.small_disk import fill, mounted_small_disk

from .conftest import join_store_threads, parse_relay
from .helpers import Broker, Collector, wait_for

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with mounted_small_disk(tmp_path / "disk") as disk:
        yield disk


@pytest.fixture
async def sim() -> AsyncIterator[SimulatedBus]:
    bus = SimulatedBus([SimulatedUnit(find_profile("ASJ"), 1)])
    await bus.serve_tcp("127.0.0.1", 0)
    try:
        yield bus
    finally:
        await bus.stop()


async def test_a_full_disk_is_an_alert_off_site_and_alarms_still_arrive(
    small_disk: Path, sim: SimulatedBus, broker: Broker, collector: Collector
) -> None:
    port = sim.servers[0].port
    assert port is not None
    settings = BusSettings(
        "line",
        TcpLine("127.0.0.1", port),
        intervals=PollIntervals(alarm=0.1, telemetry=0.5, slow=2.0),
        tcp_timeout=0.25,
    )
    config = BridgeConfig(
        data_dir=small_disk,
        buses=(BusConfig(settings, (DeviceSpec("asj", 1, find_profile("ASJ")),)),),
        api_port=0,
        relay=parse_relay({"mqtt": broker.relay_mqtt(), "telemetry_interval": 30}),
    )
    bridge = Bridge(config, storage_reserve_bytes=1024 * 1024)
    await bridge.start()
    try:
        relay = bridge.relay
        assert relay is not None and relay.mqtt is not None
        await wait_for(lambda: relay.mqtt.ready, what="relay connected")
        filler = fill(small_disk, "filler.bin")
        await wait_for(
            lambda: collector.on("/event/storage_failing"), what="the storage alert off-site"
        )
        alert = collector.on("/event/storage_failing")[0].json()
        assert alert["data"]["state"] == "on_reserve"
        assert alert["data"]["problem"] is True

        sim.unit(1).set("alarm_status", "alarm")
        await wait_for(
            lambda: collector.on("/asj/event/alarm_raised"), what="the alarm on a full disk"
        )

        filler.unlink()
        await wait_for(
            lambda: collector.on("/event/storage_recovered"), timeout=20, what="recovered"
        )
    finally:
        await bridge.stop()
        join_store_threads()
