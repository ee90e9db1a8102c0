"""The bus scheduler keeps alarm polls on time whatever else wants the line.

Real parts throughout: simulated detectors served by pymodbus on a pseudo-terminal with wire
timing at 9600 baud, the bridge's Bus polling them, and other masters reaching the line through
the real Modbus gateway with pymodbus clients. The bounds checked are the ones bus/scheduler.py
states: a unit's alarm status is read at most one (effective) alarm interval, plus one alarm
round, plus one transaction after the previous read.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from electrical_safety_bridge.bus.bus_settings import BusSettings, DeviceSpec, PollIntervals
from electrical_safety_bridge.bus.scheduler import ALARM_LINE_SHARE, Bus
from electrical_safety_bridge.common.enums import EventType
from electrical_safety_bridge.gateway.server import Gateway
from electrical_safety_bridge.modbus.lines import SerialLine
from electrical_safety_bridge.safety.events import BridgeEvent
from electrical_safety_bridge.simulator import PtyLink, SimulatedBus, SimulatedUnit, other_masters

from ..conftest import wait_for
from .test_scheduler import Rig, profile

pytestmark = pytest.mark.usefixtures("socket_enabled")

BAUD = 9600
DEFAULT_INTERVALS = PollIntervals()


@contextlib.asynccontextmanager
async def line(
    tmp_path: Path,
    devices: list[tuple[str, int, str]],
    *,
    simulated: set[int] | None = None,
    offline_after: float = 60.0,
    on_change: Callable[[Bus, str], None] | None = None,
    max_queued: int = 64,
    intervals: PollIntervals = DEFAULT_INTERVALS,
    heard_before: dict[str, float] | None = None,
) -> AsyncIterator[Rig]:
    """``devices`` as (id, unit, model); only units in ``simulated`` answer (all by default)."""
    answering = {u for _, u, _ in devices} if simulated is None else simulated
    sim = SimulatedBus(
        [SimulatedUnit(profile(m), u) for _, u, m in devices if u in answering],
        baudrate=BAUD,
        wire_timing=True,
    )
    events: list[BridgeEvent] = []
    async with PtyLink(tmp_path / "bridge", tmp_path / "sim") as link:
        await sim.serve_serial(str(link.b_path))
        settings = BusSettings(
            "line",
            SerialLine(str(link.a_path), BAUD),
            offline_after=offline_after,
            max_queued=max_queued,
            intervals=intervals,
        )
        holder: list[Bus] = []
        bus = Bus(
            settings,
            [DeviceSpec(i, u, profile(m)) for i, u, m in devices],
            emit=events.append,
            on_change=(lambda device_id: on_change(holder[0], device_id)) if on_change else None,
            heard_before=heard_before,
        )
        holder.append(bus)
        task = asyncio.create_task(bus.run())
        try:
            yield Rig(sim, bus, events)
        finally:
            bus.stop()
            await asyncio.wait_for(task, timeout=10)
            await sim.stop()


def alarm_bound(bus: Bus) -> float:
    """bus/scheduler.py's bound on the gap between two alarm reads of one unit, plus scheduling
    slack."""
    load = bus.load
    longest_transaction = bus._timeout(8, 255)
    return load.effective_s + load.round_s + longest_transaction + 0.5


@contextlib.asynccontextmanager
async def hammering(bus: Bus, unit: int, clients: int) -> AsyncIterator[list[int]]:
    """A gateway on ``bus`` and ``clients`` other masters reading ``unit`` back to back;
    yields once every client has been answered."""
    gateway = Gateway([bus], tcp_port=0, max_clients=clients + 4)
    await gateway.start()
    try:
        assert gateway.tcp_port is not None
        async with other_masters(gateway.tcp_port, unit, clients, response_timeout=10) as answers:
            await wait_for(lambda: all(answers), timeout=30, what="every gateway client answered")
            yield answers
    finally:
        await gateway.stop()


ASJ_FOUR = [(f"asj{u}", u, "ASJ") for u in (1, 2, 3, 4)]


async def test_alarms_are_seen_in_time_while_16_gateway_clients_read_back_to_back(
    tmp_path: Path,
) -> None:
    async with line(tmp_path, ASJ_FOUR) as rig:
        bus = rig.bus
        await wait_for(lambda: all(u.alarm_read_at for u in bus.units.values()), timeout=10)
        async with hammering(bus, unit=1, clients=16) as answers:
            for round_ in range(3):
                before = len(rig.of_type(EventType.ALARM_RAISED, "asj3"))
                rig.sim.unit(3).set("alarm_status", "alarm")
                await wait_for(
                    lambda b=before: len(rig.of_type(EventType.ALARM_RAISED, "asj3")) > b,
                    timeout=15,
                    what=f"alarm {round_} on unit 3 seen",
                )
                acknowledged = bus.alarms.open_alarms("asj3")[0]
                bus.acknowledge(acknowledged.id, "test")
                rig.sim.unit(3).set("alarm_status", "normal")
                await wait_for(lambda: not bus.alarms.open_alarms("asj3"), timeout=15)
            served_during_alarms = list(answers)
        status = bus.schedule_status()
    # Every alarm was seen, none lost, and no unit's alarm status went unread longer than
    # the stated bound, while every client was still served (fair shares, no starvation).
    assert len(rig.of_type(EventType.ALARM_RAISED, "asj3")) == 3
    assert status["alarm_gap_max_s"] <= alarm_bound(bus), status
    assert min(served_during_alarms) > 0
    assert not status["overloaded"]


async def test_an_idle_line_reads_alarm_status_back_to_back_and_alarms_carry_their_window(
    tmp_path: Path,
) -> None:
    # An alarm interval of a minute: on their period alone, each unit's alarm status would be
    # read once here. On an otherwise idle line the scheduler reads them back to back.
    slow_period = PollIntervals(alarm=60.0)
    async with line(tmp_path, ASJ_FOUR, intervals=slow_period) as rig:
        bus = rig.bus
        await wait_for(
            lambda: (
                all(u.alarm_read_at for u in bus.units.values())
                and (bus.schedule().alarm_cycle_s or 0) > 0
            ),
            timeout=30,
            what="every unit's alarm status read twice",
        )
        # The lower tiers keep their turn between the idle-time polls.
        asj = bus.units["asj2"].spec.profile
        span = asj.channels[0].register.span
        assert await bus.explore(2, asj.read_function, span.start, len(span))
        rig.sim.unit(3).set("alarm_status", "alarm")
        await wait_for(
            lambda: rig.of_type(EventType.ALARM_RAISED, "asj3"), timeout=15, what="alarm seen"
        )
        schedule = bus.schedule()
    (raised,) = rig.of_type(EventType.ALARM_RAISED, "asj3")
    window = raised.data["detection_window_s"]
    # The alarm appeared within the time since the previous alarm read of its unit: a sweep
    # of the idle line, far below the minute its period alone would give.
    assert 0 < window < slow_period.alarm
    assert bus.alarms.open_alarms("asj3")[0].detection_window_s == window
    assert schedule.alarm_cycle_s is not None and schedule.alarm_cycle_s < slow_period.alarm
    assert not schedule.overloaded


async def test_a_flood_at_a_silent_unit_neither_holds_the_line_nor_delays_offline(
    tmp_path: Path,
) -> None:
    devices = [*ASJ_FOUR[:2], ("dead", 9, "ASJ")]
    async with line(tmp_path, devices, simulated={1, 2}, offline_after=3.0) as rig:
        bus = rig.bus
        async with hammering(bus, unit=9, clients=16):
            await wait_for(
                lambda: rig.of_type(EventType.DEVICE_OFFLINE, "dead"),
                timeout=20,
                what="the silent unit reported offline",
            )
            rig.sim.unit(2).set("alarm_status", "alarm")
            await wait_for(lambda: rig.of_type(EventType.ALARM_RAISED, "asj2"), timeout=15)
        status = bus.schedule_status()
    (offline,) = rig.of_type(EventType.DEVICE_OFFLINE, "dead")
    # Offline within its configured silence (plus one poll's timeout), far from the 100 s cap.
    assert offline.data["silent_s"] <= 3.0 + 1.0
    assert status["alarm_gap_max_s"] <= alarm_bound(bus), status
    assert bus.units["asj1"].online and bus.units["asj2"].online


# 32 detectors on one 9600-baud line: more alarm polls than the line carries in a second.
THIRTY_TWO = [(f"aim{u}", u, "AIM-R100") for u in range(1, 9)] + [
    (f"asj{u}", u, "ASJ") for u in range(9, 33)
]


async def test_an_overloaded_line_says_so_stretches_alarms_and_reads_everything(
    tmp_path: Path,
) -> None:
    undecided_while_unread: list[tuple[str, str]] = []
    decided_against_unread: list[tuple[str, str, object]] = []

    def check_derived_alarms(bus: Bus, device_id: str) -> None:
        # Whenever a device's state changes: an alarm derived from a setpoint that has not
        # been read yet must be unknown (None), never "no alarm".
        unit = bus.units[device_id]
        alarms = bus.snapshot(device_id)["alarms"]
        for channel in unit.spec.profile.channels:
            for condition in channel.alarm:
                if condition.above is None or condition.above in unit.setpoints:
                    continue
                if alarms.get(channel.key) is None:
                    undecided_while_unread.append((device_id, channel.key))
                else:
                    decided_against_unread.append((device_id, channel.key, alarms[channel.key]))

    async with line(tmp_path, THIRTY_TWO, on_change=check_derived_alarms) as rig:
        bus = rig.bus

        def everything_read() -> bool:
            for unit in bus.units.values():
                profile_ = unit.spec.profile
                wanted = {c.key for c in profile_.channels} | {s.key for s in profile_.setpoints}
                have = set(unit.readings) | set(unit.setpoints) | unit.unsupported
                if not wanted <= have:
                    return False
            return True

        await wait_for(
            lambda: rig.of_type(EventType.BUS_OVERLOADED), timeout=30, what="overload reported"
        )
        # Stated bound: with the alarm polls held to ALARM_LINE_SHARE of the line, the rest
        # gets a quarter of it; at 9600 baud every value of 32 detectors fits in 90 s.
        await wait_for(everything_read, timeout=90, what="every value of 32 detectors read")
        status = bus.schedule_status()

    (overload,) = rig.of_type(EventType.BUS_OVERLOADED)
    assert overload.data["bus"] == "line"
    assert "second line" in overload.data["advice"]
    assert status["overloaded"]
    # The interval was stretched to what the line can hold, not left to starve the rest.
    assert status["effective_alarm_interval_s"] > status["alarm_interval_s"]
    assert status["alarm_round_s"] <= ALARM_LINE_SHARE * status["effective_alarm_interval_s"]
    assert status["alarm_gap_max_s"] <= alarm_bound(bus), status
    # The AIM-R100's "above setpoint" alarms were seen undecided before their setpoints
    # were read, and never decided against an unread setpoint.
    assert undecided_while_unread
    assert decided_against_unread == []
