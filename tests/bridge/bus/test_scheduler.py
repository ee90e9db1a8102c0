"""The bus engine against the simulator: real pymodbus clients and servers on 127.0.0.1 and on
pseudo-terminals, the bridge's own polling loop, alarms, commands and the close interlock."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from electrical_safety_bridge.bus.bus_settings import BusSettings, DeviceSpec, PollIntervals
from electrical_safety_bridge.bus.scheduler import Bus
from electrical_safety_bridge.common.enums import AlarmKind, CommandName, CommandOutcome, EventType
from electrical_safety_bridge.errors import DeviceTimeout
from electrical_safety_bridge.modbus.lines import SerialLine, TcpLine
from electrical_safety_bridge.profiles.loader import find_profile, load_profile_text
from electrical_safety_bridge.profiles.model import Profile
from electrical_safety_bridge.safety.events import BridgeEvent
from electrical_safety_bridge.safety.self_tests import SelfTestRun
from electrical_safety_bridge.simulator import PtyLink, SimulatedBus, SimulatedUnit

from ..conftest import wait_for

pytestmark = pytest.mark.usefixtures("socket_enabled")

ROOT = Path(__file__).resolve().parents[3]
SIMULATED = ROOT / "addon" / "electrical_safety_bridge" / "profiles" / "simulated"
FAST = PollIntervals(alarm=0.05, telemetry=0.2, slow=1.0)


@functools.cache
def profile(model: str) -> Profile:
    return find_profile(model)


@dataclass
class Rig:
    """A simulated line and a bridge bus on it, with every event the bus emitted."""

    sim: SimulatedBus
    bus: Bus
    events: list[BridgeEvent] = field(default_factory=list)

    def of_type(self, event_type: EventType, device_id: str | None = None) -> list[BridgeEvent]:
        return [
            e
            for e in self.events
            if e.type is event_type and (device_id is None or e.device_id == device_id)
        ]


@contextlib.asynccontextmanager
async def tcp_rig(
    devices: list[tuple[str, int, Profile]],
    *,
    rtu: bool = False,
    run: bool = True,
    offline_after: float = 60.0,
    intervals: PollIntervals = FAST,
) -> AsyncIterator[Rig]:
    """Simulated units served over TCP, a Bus polling them (running unless ``run`` is off)."""
    sim = SimulatedBus([SimulatedUnit(p, unit) for _, unit, p in devices])
    server = await sim.serve_tcp("127.0.0.1", 0, rtu=rtu)
    events: list[BridgeEvent] = []
    settings = BusSettings(
        "test",
        TcpLine("127.0.0.1", server.port, rtu=rtu),
        intervals=intervals,
        tcp_timeout=0.25,
        offline_after=offline_after,
        backoff_max=0.5,
    )
    bus = Bus(settings, [DeviceSpec(i, u, p) for i, u, p in devices], emit=events.append)
    rig = Rig(sim, bus, events)
    task = asyncio.create_task(bus.run()) if run else None
    try:
        yield rig
    finally:
        bus.stop()
        if task is not None:
            await asyncio.wait_for(task, timeout=5)
        bus.transport.close()
        await sim.stop()


def reading_of(bus: Bus, device_id: str, key: str) -> object:
    """The value the bridge holds, or None before its first read."""
    unit = bus.units[device_id]
    found = unit.readings.get(key) or unit.setpoints.get(key)
    return None if found is None else found.value


def reading(rig: Rig, device_id: str, key: str) -> object:
    return reading_of(rig.bus, device_id, key)


# --------------------------------------------------------------------------- reading


async def read_aim_and_asj(bus: Bus, sim: SimulatedBus) -> None:
    sim.unit(3).set("loop_5_residual_current", 123)
    sim.unit(3).set("loop_5_alarm_setpoint", 300)
    sim.unit(3).set("tripping_time", 6)
    sim.unit(4).set("residual_current", 45)
    sim.unit(4).set("rated_residual_operating_current", 300)
    sim.unit(4).set("trip_delay", 500)
    await bus.poll_once("aim")
    await bus.poll_once("asj")
    aim, asj = bus.snapshot("aim"), bus.snapshot("asj")
    assert aim["online"] and asj["online"]
    assert aim["values"]["loop_5_residual_current"] == 123
    assert aim["setpoints"]["loop_5_alarm_setpoint"] == 300
    assert aim["setpoints"]["tripping_time"] == 6
    assert aim["values"]["meter_type"] == "residual_current_monitor"
    assert aim["values"]["loop_5_fault"] == "normal"
    assert asj["values"]["residual_current"] == 45
    assert asj["values"]["alarm_status"] == "normal"
    assert asj["setpoints"]["rated_residual_operating_current"] == 300
    assert asj["setpoints"]["trip_delay"] == 500
    assert aim["alarms"]["loop_5_residual_current"] is False
    assert aim["unsupported"] == [] and asj["unsupported"] == []


AIM_AND_ASJ = [("aim", 3, "AIM-R100"), ("asj", 4, "ASJ")]


async def test_reads_aim_r100_and_asj_over_a_pseudo_terminal(tmp_path: Path) -> None:
    units = [SimulatedUnit(profile(m), u) for _, u, m in AIM_AND_ASJ]
    sim = SimulatedBus(units)
    async with PtyLink(tmp_path / "bridge", tmp_path / "sim") as link:
        await sim.serve_serial(str(link.b_path))
        specs = [DeviceSpec(i, u, profile(m)) for i, u, m in AIM_AND_ASJ]
        bus = Bus(BusSettings("pty", SerialLine(str(link.a_path), 9600)), specs)
        try:
            await read_aim_and_asj(bus, sim)
        finally:
            bus.transport.close()
            await sim.stop()


@pytest.mark.parametrize("rtu", [False, True], ids=["modbus-tcp", "rtu-over-tcp"])
async def test_reads_aim_r100_and_asj_over_tcp(rtu: bool) -> None:
    devices = [(i, u, profile(m)) for i, u, m in AIM_AND_ASJ]
    async with tcp_rig(devices, rtu=rtu, run=False) as rig:
        await read_aim_and_asj(rig.bus, rig.sim)


EVERY_TYPE = """
manufacturer: Test
model: ALL-TYPES
kind: residual_current_detector
manual_version: test fixture
verified: true
simulated: true
source: written for this test; every register type over the wire, no real device
channels:
  - {key: a_u16, address: 0, type: u16, scale: 0.1, kind: voltage}
  - {key: a_s16, address: 1, type: s16, scale: 0.1, kind: temperature}
  - {key: a_u32_big, address: 2, type: u32, scale: 0.01, kind: energy}
  - {key: a_u32_little, address: 4, type: u32, word_order: little, kind: energy}
  - {key: a_s32, address: 6, type: s32, kind: power}
  - {key: a_f32_big, address: 8, type: f32, kind: current}
  - {key: a_f32_little, address: 10, type: f32, word_order: little, kind: current}
  - {key: high_byte, address: 12, type: u8-hi, kind: configuration}
  - {key: low_byte, address: 12, type: u8-lo, kind: configuration}
  - {key: mode, address: 13, type: bitfield, bit: 4, bits: 3, kind: alarm_status,
     states: {0: normal, 5: tripped}}
  - {key: flag, address: 13, type: bitfield, bit: 15, kind: fault_status}
  - {key: sensor, address: 14, type: u16, kind: temperature, sentinels: {0xFAFA: open_circuit}}
"""

EXPECTED = {
    "a_u16": 230.1,
    "a_s16": -12.5,
    "a_u32_big": 123456.78,
    "a_u32_little": 70000,
    "a_s32": -150000,
    "a_f32_big": 1.5,
    "a_f32_little": -0.25,
    "high_byte": 0x12,
    "low_byte": 0x34,
    "mode": "tripped",
    "flag": 1,
}


async def test_every_register_type_decodes_over_the_wire() -> None:
    every = load_profile_text(EVERY_TYPE, "test")
    async with tcp_rig([("all", 1, every)], run=False) as rig:
        unit = rig.sim.unit(1)
        for key, value in EXPECTED.items():
            unit.set(key, value)
        unit.set("sensor", 25)
        await rig.bus.poll_once("all")
        snapshot = rig.bus.snapshot("all")
        assert {k: snapshot["values"][k] for k in EXPECTED} == EXPECTED
        assert unit.peek(12, 1) == [0x1234]
        assert rig.bus.units["all"].readings["sensor"].fault is None
        # A sentinel is a wiring fault, not a number.
        unit.set("sensor", 0xFAFA)
        await rig.bus.poll_once("all")
        assert rig.bus.snapshot("all")["values"]["sensor"] is None
        assert rig.bus.snapshot("all")["wiring_faults"] == {"sensor": "open_circuit"}


async def test_exception_02_splits_blocks_and_is_remembered() -> None:
    async with tcp_rig([("aim", 3, profile("AIM-R100"))], run=False) as rig:
        bus = rig.bus
        await bus.poll_once("aim")
        # The slow block 0x0008..0x000F crosses the reserved 0x0009-0x000A.
        learned = bus.units["aim"].plan_state
        assert bus.stats.exceptions >= 1
        assert learned.cuts
        first_exceptions = bus.stats.exceptions
        transactions = bus.stats.transactions
        await bus.poll_once("aim")
        assert bus.stats.exceptions == first_exceptions, "the plan did not remember"
        assert bus.stats.transactions > transactions
        snapshot = bus.snapshot("aim")
        assert snapshot["unsupported"] == []
        assert snapshot["setpoints"]["tripping_time"] is not None
        assert snapshot["values"]["last_event_setpoint"] is not None
        assert snapshot["values"]["loop_12_fault"] == "normal"


# --------------------------------------------------------------------------- liveness


async def test_dead_unit_beside_live_ones_goes_offline_without_stalling_them() -> None:
    devices = [
        ("left", 1, profile("ASJ")),
        ("dead", 2, profile("ASJ")),
        ("right", 3, profile("SIM-AAFD")),
    ]
    async with tcp_rig(devices, offline_after=1.0) as rig:
        await wait_for(lambda: all(u.online for u in rig.bus.units.values()))
        rig.sim.unit(2).online = False
        await wait_for(lambda: rig.of_type(EventType.DEVICE_OFFLINE, "dead"), timeout=10)
        assert rig.bus.units["dead"].online is False
        assert rig.bus.units["left"].online and rig.bus.units["right"].online
        # While the dead unit is backed off, the live ones are still read every poll.
        rig.sim.unit(1).set("alarm_status", "alarm")
        rig.sim.unit(3).set("arc_alarm", 1)
        await wait_for(lambda: rig.of_type(EventType.ALARM_RAISED, "left"), timeout=10)
        await wait_for(lambda: rig.of_type(EventType.ALARM_RAISED, "right"), timeout=10)
        # And the dead unit comes back on its own.
        rig.sim.unit(2).online = True
        await wait_for(
            lambda: rig.of_type(EventType.DEVICE_ONLINE, "dead")[-1].data["recovered"], timeout=10
        )


async def test_vanished_serial_port_is_reopened(tmp_path: Path) -> None:
    sim = SimulatedBus([SimulatedUnit(profile("ASJ"), 1)])
    events: list[BridgeEvent] = []
    async with PtyLink(tmp_path / "bridge", tmp_path / "sim") as link:
        await sim.serve_serial(str(link.b_path))
        settings = BusSettings(
            "usb", SerialLine(str(link.a_path), 9600), intervals=FAST, reopen_max=0.2
        )
        bus = Bus(settings, [DeviceSpec("asj", 1, profile("ASJ"))], emit=events.append)
        task = asyncio.create_task(bus.run())
        try:
            await wait_for(lambda: bus.units["asj"].online is True)
            await link.unplug()
            await wait_for(lambda: any(e.type is EventType.BUS_DOWN for e in events))
            assert not task.done()
            sim.unit(1).set("residual_current", 77)
            await link.replug()
            await wait_for(lambda: [e.type for e in events].count(EventType.BUS_UP) == 2)
            await wait_for(lambda: reading_of(bus, "asj", "residual_current") == 77)
        finally:
            bus.stop()
            await asyncio.wait_for(task, timeout=5)
            await sim.stop()


async def test_corrupted_frames_do_not_lose_an_alarm() -> None:
    async with tcp_rig([("asj", 1, profile("ASJ"))], rtu=True) as rig:
        rig.sim.corrupt_rate = 0.3
        await wait_for(lambda: rig.sim.counters.corrupted > 0)
        rig.sim.unit(1).set("residual_current", 420)
        rig.sim.unit(1).set("alarm_status", "alarm")
        await wait_for(lambda: rig.of_type(EventType.ALARM_RAISED, "asj"), timeout=5)
        assert rig.bus.stats.timeouts > 0, "corrupted frames were not noticed"
        assert rig.bus.units["asj"].online


# --------------------------------------------------------------------------- alarms and commands


def open_alarm(rig: Rig, device_id: str) -> object:
    alarms = [a for a in rig.bus.alarms.open_alarms(device_id) if a.kind is AlarmKind.ALARM]
    return alarms[0] if alarms else None


async def test_close_is_refused_while_alarm_active_or_unacknowledged() -> None:
    async with tcp_rig([("arcm", 1, profile("SIM-ARCM"))]) as rig:
        bus, device = rig.bus, rig.sim.unit(1)
        await wait_for(lambda: reading(rig, "arcm", "breaker") == "closed")
        device.set("residual_current", 450)  # above the 300 mA alarm setpoint
        await wait_for(lambda: rig.of_type(EventType.ALARM_RAISED, "arcm"))
        raised = rig.of_type(EventType.ALARM_RAISED, "arcm")[0]
        assert raised.channel == "residual_current"
        assert raised.data["value_at_alarm"] == 450, "the value at the moment of the alarm"

        trip = await bus.command("arcm", "trip", who="tenant")
        assert trip.outcome is CommandOutcome.CONFIRMED
        assert trip.state == "open"

        refused = await bus.command("arcm", "close", who="tenant")
        assert refused.outcome is CommandOutcome.REFUSED
        assert refused.reason == "alarm_active"
        assert CommandName.CLOSE not in device.command_log

        device.set("residual_current", 20)
        await bus.command("arcm", "reset", who="electrician")
        await wait_for(lambda: not open_alarm(rig, "arcm").active)  # type: ignore[union-attr]
        refused = await bus.command("arcm", "close", who="electrician")
        assert refused.reason == "alarm_unacknowledged"
        assert CommandName.CLOSE not in device.command_log

        alarm = open_alarm(rig, "arcm")
        bus.acknowledge(alarm.id, "electrician")  # type: ignore[union-attr]
        assert open_alarm(rig, "arcm") is None
        assert [e.type for e in rig.of_type(EventType.ALARM_CLEARED, "arcm")]
        closed = await bus.command("arcm", "close", who="electrician")
        assert closed.outcome is CommandOutcome.CONFIRMED
        assert closed.state == "closed"
        assert device.command_log.count(CommandName.CLOSE) == 1
        outcomes = [(e.data["command"], e.data["outcome"]) for e in rig.of_type(EventType.COMMAND)]
        assert outcomes == [
            ("trip", "confirmed"),
            ("close", "refused"),
            ("reset", "confirmed"),
            ("close", "refused"),
            ("close", "confirmed"),
        ]


async def test_close_is_refused_when_the_fresh_alarm_poll_shows_an_alarm() -> None:
    """The interlock reads the device before deciding, not the last poll's state."""
    slow = PollIntervals(alarm=60, telemetry=60, slow=60)
    async with tcp_rig([("arcm", 1, profile("SIM-ARCM"))], intervals=slow) as rig:
        await wait_for(lambda: reading(rig, "arcm", "breaker") == "closed")
        transactions = rig.bus.stats.transactions
        rig.sim.unit(1).set("residual_current", 500)  # the bus will not poll for a minute
        result = await rig.bus.command("arcm", "close")
        assert rig.bus.stats.transactions > transactions
        assert result.reason == "alarm_active"
        assert CommandName.CLOSE not in rig.sim.unit(1).command_log


async def test_trip_without_an_answer_is_not_retried() -> None:
    # No polls in the way: only the trip and its read-back are on the line.
    quiet = PollIntervals(alarm=60, telemetry=60, slow=60)
    async with tcp_rig([("arcm", 1, profile("SIM-ARCM"))], intervals=quiet) as rig:
        await wait_for(lambda: reading(rig, "arcm", "breaker") == "closed")
        # Far longer than the bridge's 0.25 s response timeout, so that even a starved event
        # loop sees the timeout first.
        rig.sim.turnaround_delay = 2.0
        result = await rig.bus.command("arcm", "trip", who="automation")
        assert result.outcome is CommandOutcome.UNCONFIRMED
        assert result.reason == "no_response"
        rig.sim.turnaround_delay = 0.0

        async def breaker_reads_open() -> bool:
            with contextlib.suppress(Exception):
                await rig.bus.poll_once("arcm")
            return reading(rig, "arcm", "breaker") == "open"

        await wait_for(breaker_reads_open, timeout=30)
        assert rig.sim.unit(1).command_log.count(CommandName.TRIP) == 1


async def test_unverified_profile_never_writes() -> None:
    text = (SIMULATED / "sim_arcm.yaml").read_text(encoding="utf-8")
    unverified = load_profile_text(text.replace("verified: true", "verified: false"), "test")
    assert not unverified.can_write
    async with tcp_rig([("arcm", 1, unverified)]) as rig:
        await wait_for(lambda: rig.bus.units["arcm"].online is True)
        for name in ("trip", "close", "reset", "self_test"):
            result = await rig.bus.command("arcm", name)
            assert result.outcome is CommandOutcome.REFUSED
            assert result.reason == "profile_unverified"
        result = await rig.bus.write_setpoint("arcm", "residual_current_alarm_setpoint", 400)
        assert result.reason == "profile_unverified"
        assert rig.sim.unit(1).command_log == []
        assert rig.sim.unit(1).get("residual_current_alarm_setpoint").value != 400


async def test_setpoint_write_is_read_back_and_range_checked() -> None:
    async with tcp_rig([("asj", 1, profile("ASJ"))]) as rig:
        await wait_for(lambda: rig.bus.units["asj"].online is True)
        result = await rig.bus.write_setpoint("asj", "prewarning_current", 150, who="owner")
        assert result.outcome is CommandOutcome.CONFIRMED
        assert result.state == 150
        assert rig.sim.unit(1).get("prewarning_current").value == 150
        changed = rig.of_type(EventType.SETPOINT_CHANGED, "asj")
        assert changed[-1].data["to"] == 150
        assert changed[-1].data["who"] == "owner"
        refused = await rig.bus.write_setpoint("asj", "trip_delay", 20000)
        assert refused.reason == "value_out_of_range"
        assert rig.sim.unit(1).get("trip_delay").value != 20000


async def test_self_test_passes_when_the_detector_alarms_and_the_alarm_is_marked() -> None:
    async with tcp_rig([("aafd", 2, profile("SIM-AAFD"))]) as rig:
        await wait_for(lambda: rig.bus.units["aafd"].online is True)
        result = await rig.bus.command("aafd", "self_test", who="landlord")
        assert result.outcome is CommandOutcome.CONFIRMED
        await wait_for(lambda: rig.of_type(EventType.SELF_TEST, "aafd"))
        (raised,) = rig.of_type(EventType.ALARM_RAISED, "aafd")
        assert raised.data["detail"] == "self_test"
        (test,) = rig.of_type(EventType.SELF_TEST, "aafd")
        assert test.data["result"] == "pass"
        assert test.channel == raised.channel
        assert 0 <= test.data["seconds"] <= 30


async def test_self_test_fails_when_the_detector_answers_without_alarming() -> None:
    clock = [1000.0]
    async with tcp_rig([("asj", 1, profile("ASJ"))], run=False) as rig:
        rig.bus._clock = lambda: clock[0]
        unit = rig.bus.units["asj"]
        # As after a confirmed self_test write: the device answered it.
        unit.self_test = SelfTestRun(who="landlord", time_limit_s=30.0, heard=True)
        unit.self_test_since = clock[0]
        rig.bus._expire_self_tests()
        assert rig.of_type(EventType.SELF_TEST) == []
        clock[0] += 30.0
        rig.bus._expire_self_tests()
        (test,) = rig.of_type(EventType.SELF_TEST, "asj")
        assert test.data["result"] == "fail"
        assert test.data["seconds_to_alarm"] is None and test.data["time_limit_s"] == 30.0
        assert unit.self_test_since is None and unit.self_test is None


async def test_self_test_without_any_answer_is_no_response() -> None:
    clock = [1000.0]
    async with tcp_rig([("asj", 1, profile("ASJ"))], run=False) as rig:
        rig.bus._clock = lambda: clock[0]
        unit = rig.bus.units["asj"]
        unit.self_test_since = clock[0]  # written, and nothing heard since
        clock[0] += 30.0
        rig.bus._expire_self_tests()
        (test,) = rig.of_type(EventType.SELF_TEST, "asj")
        assert test.data["result"] == "no_response"


async def test_aim_r100_loop_alarm_is_derived_from_its_setpoint() -> None:
    async with tcp_rig([("aim", 3, profile("AIM-R100"))]) as rig:
        await wait_for(lambda: reading(rig, "aim", "loop_7_alarm_setpoint") is not None)
        limit = reading(rig, "aim", "loop_7_alarm_setpoint")
        assert isinstance(limit, int)
        rig.sim.unit(3).set("loop_7_residual_current", limit + 5)
        await wait_for(lambda: rig.of_type(EventType.ALARM_RAISED, "aim"))
        (raised,) = rig.of_type(EventType.ALARM_RAISED, "aim")
        assert raised.channel == "loop_7_residual_current"
        assert raised.data["value_at_alarm"] == limit + 5


async def test_unknown_device_command_is_refused() -> None:
    from electrical_safety_bridge.errors import CommandRefused

    async with tcp_rig([("asj", 1, profile("ASJ"))], run=False) as rig:
        with pytest.raises(CommandRefused) as refused:
            await rig.bus.command("nope", "trip")
        assert refused.value.reason.value == "unknown_device"


def test_offline_silence_is_capped_at_100_seconds() -> None:
    line = TcpLine("127.0.0.1", 1)
    with pytest.raises(ValueError, match="offline_after"):
        BusSettings("x", line, offline_after=101)
    assert BusSettings("x", line).offline_after == 60


def test_timeouts_follow_from_baud_rate_and_frame_length() -> None:
    slow = BusSettings("a", SerialLine("/dev/null", 1200))
    fast = BusSettings("b", SerialLine("/dev/null", 19200))
    short_slow, long_slow = slow.wire_seconds(8, 7), slow.wire_seconds(8, 255)
    short_fast = fast.wire_seconds(8, 7)
    assert short_slow is not None and long_slow is not None and short_fast is not None
    assert long_slow > short_slow > short_fast
    # 8N1 is 10 bits per character: 15 bytes at 1200 baud is 0.125 s on the wire.
    assert slow.bits_per_char == 10
    assert short_slow == pytest.approx(15 * 10 / 1200 + 2 * 3.5 * 10 / 1200)


# --------------------------------------------------------------------------- explorer


async def test_explorer_reads_configured_and_unconfigured_units_read_only() -> None:
    asj = profile("ASJ")
    sim = SimulatedBus([SimulatedUnit(asj, 4), SimulatedUnit(asj, 9)])
    server = await sim.serve_tcp("127.0.0.1", 0)
    settings = BusSettings("test", TcpLine("127.0.0.1", server.port), intervals=FAST)
    bus = Bus(settings, [DeviceSpec("asj", 4, asj)])
    task = asyncio.create_task(bus.run())
    try:
        sim.unit(9).set("residual_current", 77)
        spec = sim.unit(9).spec("residual_current")
        function = asj.read_function
        # Unit 9 has no profile in the bridge: a person maps it with the explorer.
        values = await bus.explore(9, function, spec.address, len(spec.span))
        assert values == [sim.unit(9).registers[a] for a in spec.span]
        assert 9 not in {u.spec.unit for u in bus.units.values()}
        # A configured unit is read the same way, and counts as heard.
        before = bus.stats.transactions
        await bus.explore(4, function, spec.address, len(spec.span))
        assert bus.stats.transactions > before
        assert bus.units["asj"].online is True
        # A silent unit times out (counted), and a request outside Modbus is refused unsent.
        timeouts = bus.stats.timeouts
        with pytest.raises(DeviceTimeout):
            await bus.explore(30, 3, 0, 1)
        assert bus.stats.timeouts == timeouts + 1
        for bad in ((9, 6, 0, 1), (0, 3, 0, 1), (9, 3, 0, 126), (9, 3, 65535, 2)):
            with pytest.raises(ValueError, match="must be"):
                await bus.explore(*bad)
    finally:
        bus.stop()
        await asyncio.wait_for(task, timeout=5)
        await sim.stop()
