"""A full disk: reported within seconds, alarms still pushed and stored, nothing lost.

The data folder is a real, small tmpfs that the test fills up with a real file, and the
bridge is the real service (store, API, WebSocket) on simulated detectors over Modbus TCP.
Mounting a tmpfs needs root (CI runs the tests as root); elsewhere the tests are skipped
and say why (tests/small_disk.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from electrical_safety_bridge.bus.bus_settings import BusSettings, DeviceSpec, PollIntervals
from electrical_safety_bridge.config.bridge_config import BridgeConfig, BusConfig
from electrical_safety_bridge.modbus.lines import TcpLine
from electrical_safety_bridge.profiles.loader import find_profile
from electrical_safety_bridge.service import Bridge
from electrical_safety_bridge.simulator import SimulatedBus, SimulatedUnit
from electrical_safety_bridge.storage.guard import RESERVE_FILE
from tests.small_disk import fill, mounted_small_disk

from ..conftest import wait_for

pytestmark = pytest.mark.usefixtures("socket_enabled")

RESERVE_BYTES = 1024 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with mounted_small_disk(tmp_path / "disk") as disk:
        yield disk


@dataclass
class Site:
    bridge: Bridge
    sim: SimulatedBus
    session: aiohttp.ClientSession
    url: str
    pushed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.bridge.token}"}

    async def get(self, path: str) -> Any:
        async with self.session.get(self.url + path, headers=self.auth) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def post(self, path: str, body: Any) -> tuple[int, Any]:
        async with self.session.post(self.url + path, headers=self.auth, json=body) as response:
            return response.status, await response.json()

    def pushed_events(self, event_type: str) -> list[dict[str, Any]]:
        return [
            m["event"]
            for m in self.pushed
            if m["type"] == "event" and m["event"]["type"] == event_type
        ]

    async def stored_events(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        after = 0
        while True:
            page = (await self.get(f"/events?after={after}&limit=1000"))["events"]
            if not page:
                return events
            events.extend(page)
            after = page[-1]["seq"]


DEVICES = [("arcm", 1, "SIM-ARCM"), ("asj", 2, "ASJ")]


@contextlib.asynccontextmanager
async def site(data_dir: Path, sim: SimulatedBus | None = None) -> AsyncIterator[Site]:
    """A bridge on ``data_dir`` with a WebSocket client recording every push."""
    own_sim = sim is None
    if sim is None:
        sim = SimulatedBus([SimulatedUnit(find_profile(m), u) for _, u, m in DEVICES])
        await sim.serve_tcp("127.0.0.1", 0)
    port = sim.servers[0].port
    assert port is not None
    settings = BusSettings(
        "line",
        TcpLine("127.0.0.1", port),
        intervals=PollIntervals(alarm=0.1, telemetry=0.5, slow=2.0),
        tcp_timeout=0.25,
    )
    devices = tuple(DeviceSpec(i, u, find_profile(m)) for i, u, m in DEVICES)
    config = BridgeConfig(data_dir=data_dir, buses=(BusConfig(settings, devices),), api_port=0)
    bridge = Bridge(config, storage_reserve_bytes=RESERVE_BYTES)
    await bridge.start()
    session = aiohttp.ClientSession()
    url = f"http://127.0.0.1:{bridge.api_port}/api/v1"
    running = Site(bridge, sim, session, url)
    socket = await session.ws_connect(url + "/ws", headers=running.auth)

    async def listen() -> None:
        async for message in socket:
            running.pushed.append(json.loads(message.data))

    listener = asyncio.create_task(listen())
    try:
        await wait_for(lambda: all(u.online for u in bridge.buses["line"].units.values()))
        yield running
    finally:
        listener.cancel()
        await socket.close()
        await session.close()
        await bridge.stop()
        if own_sim:
            await sim.stop()


async def health(running: Site) -> dict[str, Any]:
    async with running.session.get(running.url + "/health") as response:
        assert response.status == 200
        body: dict[str, Any] = await response.json()
        return body


async def storage_state(running: Site) -> str:
    return str((await health(running))["storage"]["state"])


async def test_a_full_disk_is_said_at_once_and_alarms_are_stored_on_the_reserve(
    small_disk: Path,
) -> None:
    sim = SimulatedBus([SimulatedUnit(find_profile(m), u) for _, u, m in DEVICES])
    await sim.serve_tcp("127.0.0.1", 0)
    try:
        async with site(small_disk, sim) as running:
            assert (small_disk / RESERVE_FILE).stat().st_size == RESERVE_BYTES
            assert (await health(running))["status"] == "ok"
            fill(small_disk, "filler.bin")
            # Said within seconds, with no event written meanwhile: the free-space watch.
            await wait_for(
                lambda: running.bridge.storage.status.problem, timeout=10, what="storage trouble"
            )
            body = await health(running)
            assert body["status"] == "degraded"
            assert body["storage"]["state"] == "on_reserve"
            assert "storage_on_reserve" in body["problems"]
            assert not (small_disk / RESERVE_FILE).exists()
            await wait_for(lambda: running.pushed_events("storage_failing"), timeout=10)
            assert any(m["type"] == "status" for m in running.pushed)

            # An alarm on the full disk: latched, pushed, stored in the reserve's room.
            sim.unit(2).set("alarm_status", "alarm")
            await wait_for(lambda: running.pushed_events("alarm_raised"), timeout=10)
            (raised,) = running.pushed_events("alarm_raised")
            assert raised["seq"] is not None and "stored" not in raised
            # Commands and acknowledgements can still be recorded, so they are done.
            status, acked = await running.post(
                f"/alarms/{raised['data']['id']}/acknowledge", {"who": "tenant"}
            )
            assert status == 200, acked
            sim.unit(2).set("alarm_status", "normal")
            sim.unit(1).set("residual_current", 480)  # an alarm left open and unacknowledged
            await wait_for(lambda: len(running.pushed_events("alarm_raised")) == 2, timeout=10)
            pushed_ids = {m["event"]["id"] for m in running.pushed if m["type"] == "event"}

        # Restarted while the disk is still full: nothing was lost, the latch and the
        # acknowledgement held.
        async with site(small_disk, sim) as again:
            stored = {e["id"]: e for e in await again.stored_events()}
            assert pushed_ids <= set(stored), pushed_ids - set(stored)
            alarms = (await again.get("/alarms"))["alarms"]
            open_arcm = [a for a in alarms if a["device_id"] == "arcm"]
            assert open_arcm and not open_arcm[0]["acknowledged"]
            asj = [a for a in alarms if a["device_id"] == "asj"]
            assert all(a["acknowledged"] for a in asj)
            # (Closing the store checkpointed its log, which may have left room for the
            # reserve: fill what is left, so the restarted bridge is on a full disk too.)
            fill(small_disk, "filler-2.bin")
            await wait_for(lambda: again.bridge.storage.status.problem, timeout=10)

            # Space returns: the reserve is written back and the trouble ends by itself.
            (small_disk / "filler.bin").unlink()
            (small_disk / "filler-2.bin").unlink()
            await wait_for(
                lambda: not again.bridge.storage.status.problem, timeout=15, what="recovered"
            )
            assert (small_disk / RESERVE_FILE).stat().st_size == RESERVE_BYTES
            assert (await health(again))["status"] == "ok"
            await wait_for(lambda: again.pushed_events("storage_recovered"), timeout=10)
    finally:
        await sim.stop()


async def test_with_even_the_reserve_used_up_alarms_are_pushed_held_and_written_later(
    small_disk: Path,
) -> None:
    async with site(small_disk) as running:
        fill(small_disk, "filler.bin")
        await wait_for(lambda: running.bridge.storage.status.problem, timeout=10)
        fill(small_disk, "filler-2.bin")  # the reserve's room too

        # Alarms and a wiring fault while nothing can be written: pushed at once, marked.
        running.sim.unit(2).set("alarm_status", "alarm")
        running.sim.unit(1).set("residual_current", 480)
        await wait_for(lambda: len(running.pushed_events("alarm_raised")) == 2, timeout=10)
        unstored = list(running.pushed_events("alarm_raised"))
        assert all(e["stored"] is False and e["seq"] is None for e in unstored)
        assert len({e["data"]["id"] for e in unstored}) == 2
        assert await storage_state(running) == "failing"
        body = await health(running)
        assert body["storage"]["held_events"] >= 2
        assert "storage_failing" in body["problems"]
        # The alarms are latched and shown, though not stored yet.
        alarms = (await running.get("/alarms"))["alarms"]
        assert {a["device_id"] for a in alarms} == {"arcm", "asj"}
        # A client that connects now hears of the held events in its snapshot.
        async with running.session.ws_connect(
            running.url + "/ws", headers=running.auth
        ) as late_client:
            snapshot = await late_client.receive_json()
        held_ids = {e["id"] for e in snapshot["held_events"]}
        assert {e["id"] for e in unstored} <= held_ids
        assert all(e["stored"] is False for e in snapshot["held_events"])

        # Nothing is done unrecorded: a command and an acknowledgement are refused.
        status, refused = await running.post("/devices/arcm/commands", {"command": "trip"})
        assert status == 409 and refused["reason"] == "storage_failing", refused
        alarm_id = unstored[0]["data"]["id"]
        status, refused = await running.post(f"/alarms/{alarm_id}/acknowledge", {"who": "x"})
        assert status == 409 and refused["error"] == "refused", refused
        assert refused["reason"] == "storage_failing", refused
        assert "cannot record" in refused["message"]

        # Space returns: every held event is written, in order, with the id it was pushed
        # with; then the reserve comes back and the trouble ends.
        (small_disk / "filler-2.bin").unlink()
        (small_disk / "filler.bin").unlink()
        await wait_for(
            lambda: not running.bridge.storage.status.problem, timeout=20, what="recovered"
        )
        stored = await running.stored_events()
        stored_ids = [e["id"] for e in stored]
        assert set(held_ids) <= set(stored_ids)  # every held event, stored under its id
        for event in unstored:
            assert event["id"] in stored_ids
        kinds = [e["type"] for e in stored]
        assert kinds.index("storage_failing") < kinds.index("alarm_raised")
        assert kinds[-1] == "storage_recovered" or "storage_recovered" in kinds
        status, acked = await running.post(f"/alarms/{alarm_id}/acknowledge", {"who": "x"})
        assert status == 200, acked
