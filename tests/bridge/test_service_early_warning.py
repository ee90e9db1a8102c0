"""Early warning in a running bridge, on a compressed clock: eight weeks of a simulated
detector's leakage ageing pass in half a minute, and the warning shows as an event, on
the API, and survives a restart; a repair clears it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from electrical_safety_bridge.bus.bus_settings import BusSettings, DeviceSpec, PollIntervals
from electrical_safety_bridge.common.enums import EventType
from electrical_safety_bridge.common.trends import ChannelTrend
from electrical_safety_bridge.config.bridge_config import BridgeConfig, BusConfig
from electrical_safety_bridge.config.early_warning_settings import EarlyWarningConfig
from electrical_safety_bridge.modbus.lines import TcpLine
from electrical_safety_bridge.profiles.loader import find_profile
from electrical_safety_bridge.safety.early_warning import EarlyWarningSettings
from electrical_safety_bridge.service import Bridge
from electrical_safety_bridge.simulator import SimulatedBus, SimulatedUnit
from electrical_safety_bridge.simulator.scenarios import (
    Scenario,
    ScenarioKind,
    resolve,
    run_scenario,
)
from electrical_safety_bridge.storage.trend_state import TREND_FILE

from .conftest import wait_for

pytestmark = pytest.mark.usefixtures("socket_enabled")

#: Half a second of real time is a day of the baselines' clock.
DAY_REAL_S = 0.5
TIME_SCALE = 86400 / DAY_REAL_S


@contextlib.asynccontextmanager
async def bridge_on(sim: SimulatedBus, port: int, data_dir: Path) -> AsyncIterator[Bridge]:
    settings = BusSettings(
        "line",
        TcpLine("127.0.0.1", port),
        intervals=PollIntervals(alarm=0.2, telemetry=0.05, slow=0.5),
        tcp_timeout=0.25,
    )
    config = BridgeConfig(
        data_dir=data_dir,
        buses=(BusConfig(settings, (DeviceSpec("arcm", 1, find_profile("SIM-ARCM")),)),),
        api_port=0,
        early_warning=EarlyWarningConfig(EarlyWarningSettings(), TIME_SCALE),
    )
    bridge = Bridge(config)
    await bridge.start()
    try:
        yield bridge
    finally:
        await bridge.stop()


async def early_warnings(bridge: Bridge, query: str = "") -> list[ChannelTrend]:
    url = f"http://127.0.0.1:{bridge.api_port}/api/v1/early-warnings{query}"
    headers = {"Authorization": f"Bearer {bridge.token}"}
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as answer:
        assert answer.status == 200
        body = await answer.json()
    return [ChannelTrend.from_dict(raw) for raw in body["channels"]]


async def events_of(bridge: Bridge, event_type: EventType) -> list[dict[str, object]]:
    return [e.as_dict() for e in await bridge.store.query(types=[event_type], limit=100)]


async def stored_events(bridge: Bridge, event_type: EventType) -> list[dict[str, object]]:
    """The events of a type once the store has them: the event writer stores an event a
    moment after the baseline changes, so a test waits for it rather than races it."""
    stored: list[dict[str, object]] = []

    async def written() -> bool:
        stored[:] = await events_of(bridge, event_type)
        return bool(stored)

    await wait_for(written, what=f"{event_type} stored")
    return stored


async def test_leakage_ageing_warns_persists_and_a_repair_clears(tmp_path: Path) -> None:
    unit = SimulatedUnit(find_profile("SIM-ARCM"), 1)
    unit.set("residual_current", 30)
    sim = SimulatedBus([unit])
    server = await sim.serve_tcp("127.0.0.1", 0)
    assert server.port is not None
    data_dir = tmp_path / "data"
    try:
        async with bridge_on(sim, server.port, data_dir) as bridge:
            watched = await early_warnings(bridge)
            assert {t.channel for t in watched} == {
                "residual_current",
                "temperature_1",
                "temperature_2",
                "temperature_3",
                "temperature_4",
            }
            assert not any(t.warning for t in watched)
            # Insulation ageing: 30 → 200 mA over 8 weeks of the compressed clock.
            ageing = resolve(
                Scenario(ScenarioKind.LEAKAGE_RAMP, unit=1, to=200, seconds=56 * DAY_REAL_S),
                sim,
            )
            ramp = run_scenario(sim, ageing)
            async with _background(ramp):
                await wait_for(
                    lambda: (
                        bridge.trends is not None and any(t.warning for t in bridge.trends.trends())
                    ),
                    timeout=60 * DAY_REAL_S * 2,
                    what="an early warning",
                )
            (raised,) = await stored_events(bridge, EventType.EARLY_WARNING)
            data = raised["data"]
            assert isinstance(data, dict)
            assert (raised["device_id"], raised["channel"]) == ("arcm", "residual_current")
            assert data["setpoint"] == 300 and data["unit"] == "mA"
            assert 1 < data["slope_per_day"] < 6, "about 3 mA a day"
            assert 10 < data["days_to_setpoint"] < 120
            assert data["level"] < 300, "before the setpoint is reached"
            (warning,) = await early_warnings(bridge, "?warning=true")
            assert warning.channel == "residual_current" and warning.warning
        assert (data_dir / TREND_FILE).is_file()

        # Restarted: the baseline and its warning are as they were.
        async with bridge_on(sim, server.port, data_dir) as bridge:
            (warning,) = await early_warnings(bridge, "?warning=true")
            assert warning.channel == "residual_current"
            assert warning.days_observed >= 10
            # Repaired: the leakage falls back, and the warning clears within days.
            unit.set("residual_current", 30)
            await wait_for(
                lambda: (
                    bridge.trends is not None and not any(t.warning for t in bridge.trends.trends())
                ),
                timeout=10 * DAY_REAL_S * 2,
                what="the warning cleared",
            )
            (cleared,) = await stored_events(bridge, EventType.EARLY_WARNING_CLEARED)
            assert cleared["channel"] == "residual_current"
            assert isinstance(cleared["data"], dict) and cleared["data"]["reason"] == "fell"
            assert await early_warnings(bridge, "?warning=true") == []
    finally:
        await sim.stop()


@contextlib.asynccontextmanager
async def _background(coroutine: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    """Run ``coroutine`` while the block runs; cancelled after it."""
    task = asyncio.create_task(coroutine)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
