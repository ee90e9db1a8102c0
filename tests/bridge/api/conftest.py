"""A running bridge on a simulated bus, with an HTTP session: the API tests' fixture."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from electrical_safety_bridge.bus.bus_settings import BusSettings, DeviceSpec, PollIntervals
from electrical_safety_bridge.common.enums import ContractUnit, CtLocation, Region, SupplySystem
from electrical_safety_bridge.common.site import Contract, Installation
from electrical_safety_bridge.config.bridge_config import BridgeConfig, BusConfig
from electrical_safety_bridge.config.site_config import SiteConfig
from electrical_safety_bridge.modbus.lines import TcpLine
from electrical_safety_bridge.profiles.loader import find_profile, load_profile_text
from electrical_safety_bridge.service import Bridge
from electrical_safety_bridge.simulator import SimulatedBus, SimulatedUnit

from ..conftest import wait_for

ROOT = Path(__file__).resolve().parents[3]
#: The site of the API tests' bridge: located, supplied and contracted, so that every key of
#: the contract's site has a value.
SITE = SiteConfig(
    name="Flat 3",
    id="flat-3",
    region=Region.CN,
    latitude=31.2304,
    longitude=121.4737,
    supply_system=SupplySystem.SINGLE_PHASE_2WIRE_200V,
    contracts=(Contract(ContractUnit.AMPERE, 60.0),),
)
#: How the ARCM is installed (the others have no installation configured).
ARCM_INSTALLATION = Installation(
    ct_rating_a=100.0,
    ct_location=CtLocation.SERVICE_ENTRANCE,
    circuit="Kitchen sockets",
    circuit_rated_current_a=20.0,
    room="Kitchen",
)
SIM_ARCM = ROOT / "addon" / "electrical_safety_bridge" / "profiles" / "simulated" / "sim_arcm.yaml"


@dataclass
class Running:
    bridge: Bridge
    sim: SimulatedBus
    session: aiohttp.ClientSession
    url: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.bridge.token}"}

    async def get(self, path: str, **kwargs: Any) -> tuple[int, Any]:
        async with self.session.get(self.url + path, headers=self.auth, **kwargs) as response:
            return response.status, await response.json()

    async def post(self, path: str, body: Any = None) -> tuple[int, Any]:
        async with self.session.post(self.url + path, headers=self.auth, json=body) as response:
            return response.status, await response.json()


@contextlib.asynccontextmanager
async def running_bridge(tmp_path: Path, **overrides: Any) -> AsyncIterator[Running]:
    """The bridge on a simulated line of three units; ``overrides`` are BridgeConfig fields."""
    unverified = load_profile_text(
        SIM_ARCM.read_text(encoding="utf-8").replace("verified: true", "verified: false"),
        "unverified-arcm",
    )
    models = [("arcm", 1, find_profile("SIM-ARCM")), ("asj", 2, find_profile("ASJ"))]
    models.append(("unverified", 3, unverified))
    sim = SimulatedBus([SimulatedUnit(p, u) for _, u, p in models])
    server = await sim.serve_tcp("127.0.0.1", 0)
    assert server.port is not None
    settings_ = BusSettings(
        "line",
        TcpLine("127.0.0.1", server.port),
        intervals=PollIntervals(alarm=0.05, telemetry=0.2, slow=1.0),
        tcp_timeout=0.25,
    )
    devices = tuple(
        DeviceSpec(i, u, p, i.upper(), installation=ARCM_INSTALLATION if i == "arcm" else None)
        for i, u, p in models
    )
    config = BridgeConfig(
        data_dir=tmp_path / "data",
        buses=(BusConfig(settings_, devices),),
        api_port=0,
        **({"site": SITE} | overrides),
    )
    bridge = Bridge(config)
    await bridge.start()
    session = aiohttp.ClientSession()
    try:
        yield Running(bridge, sim, session, f"http://127.0.0.1:{bridge.api_port}/api/v1")
    finally:
        await session.close()
        await bridge.stop()
        await sim.stop()


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Running]:
    """A running bridge whose every unit is online."""
    async with running_bridge(tmp_path) as running:
        units = running.bridge.buses["line"].units
        await wait_for(lambda: all(u.online for u in units.values()), what="every unit online")
        yield running
