"""The simulator, tested the way the bridge uses it: real pymodbus clients over TCP,
RTU-over-TCP and a pseudo-terminal, against built-in and simulated profiles."""

from __future__ import annotations

import argparse
import asyncio
import functools
import io
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException
from pymodbus.framer import FramerType

from electrical_safety_bridge.bus.bus_settings import BusSettings
from electrical_safety_bridge.common.enums import CommandName
from electrical_safety_bridge.modbus import timing
from electrical_safety_bridge.modbus.lines import SerialLine
from electrical_safety_bridge.profiles.codec import encode
from electrical_safety_bridge.profiles.loader import find_profile, load_profile_text
from electrical_safety_bridge.profiles.model import Profile
from electrical_safety_bridge.simulator import (
    ExceptionCode,
    PtyLink,
    Scenario,
    ScenarioError,
    ScenarioKind,
    SimulatedBus,
    SimulatedServer,
    SimulatedUnit,
    UnitException,
    load_scenarios,
    parse_step,
)
from electrical_safety_bridge.simulator.command import add_arguments, inject_line, read_steps

from ..conftest import wait_for

ROOT = Path(__file__).resolve().parents[3]

# pytest-homeassistant-custom-component installs pytest-socket, which blocks socket.socket
# in every test; these tests serve and connect on 127.0.0.1 on purpose.
pytestmark = pytest.mark.usefixtures("socket_enabled")

# A fixture profile for behaviour the shipped profiles do not combine: named alarm states
# with a warning, a sentinel wiring fault, latching with reset, FC 06 trip/close. Its
# addresses are this test's own; it describes no real device.
TEST_PROFILE = """
manufacturer: Test
model: TEST-RCD
kind: circuit_protector
manual_version: test fixture
verified: true
simulated: true
source: written for these tests; not any device's register map
channels:
  - {key: residual_current, address: 0, unit: mA, kind: residual_current,
     alarm: {source: status, states: [alarm]}, warning: {source: status, states: [warning]}}
  - {key: temperature, address: 1, type: s16, scale: 0.1, kind: temperature,
     sentinels: {0x7FFF: open_circuit},
     wiring_fault: {source: status, states: [open_circuit]}}
  - {key: status, address: 2, type: bitfield, bit: 0, bits: 2, kind: alarm_status,
     states: {0: normal, 1: warning, 2: alarm, 3: open_circuit}}
  - {key: breaker, address: 3, type: bitfield, bit: 0, kind: breaker,
     states: {0: open, 1: closed}}
setpoints:
  - {key: residual_current_alarm_setpoint, address: 16, min: 20, max: 1000,
     kind: residual_current_alarm}
  - {key: residual_current_prewarning_setpoint, address: 17, min: 10, max: 1000,
     kind: residual_current_prewarning}
commands:
  reset: {address: 32, value: 1}
  self_test: {address: 32, value: 2}
  trip: {address: 33, value: 0, function: 6, verify: {channel: breaker, state: open}}
  close: {address: 33, value: 1, function: 6, verify: {channel: breaker, state: closed}}
"""


def rcd_profile() -> Profile:
    return load_profile_text(TEST_PROFILE, "test-rcd.yaml")


@functools.cache
def profile(model: str) -> Profile:
    """A built-in profile, loaded once: the catalogue parses every file on each lookup."""
    return find_profile(model)


def words(unit: SimulatedUnit, key: str) -> list[int]:
    return [unit.registers[a] for a in unit.spec(key).span]


@pytest.fixture
async def bus() -> AsyncIterator[SimulatedBus]:
    """AIM-R100 at unit 1 and ASJ at unit 2 on one line."""
    line = SimulatedBus(
        [
            SimulatedUnit(profile("AIM-R100"), 1),
            SimulatedUnit(profile("ASJ"), 2, values={"residual_current": 42}),
        ]
    )
    yield line
    await line.stop()


async def tcp_client(
    server: SimulatedServer, *, rtu: bool = False, reply_timeout: float = 1.0
) -> AsyncModbusTcpClient:
    client = AsyncModbusTcpClient(
        "127.0.0.1",
        port=server.port or 0,
        framer=FramerType.RTU if rtu else FramerType.SOCKET,
        timeout=reply_timeout,
        retries=0,
    )
    assert await client.connect()
    return client


async def read(client: Any, unit: int, address: int, count: int = 1) -> list[int]:
    response = await client.read_holding_registers(address, count=count, device_id=unit)
    assert not response.isError(), response
    return list(response.registers)


# --------------------------------------------------------------------------- wire


def test_wire_frame_arithmetic() -> None:
    assert timing.frame_seconds(8, 9600) == pytest.approx(8 * 11 / 9600)
    assert timing.bits_per_char(8, "N", 1) == 10
    assert timing.bits_per_char(8, "E", 1) == 11
    assert timing.silent_interval(9600) == pytest.approx(3.5 * 11 / 9600)
    assert timing.silent_interval(115200) == pytest.approx(0.00175)
    assert timing.read_request_bytes() == 8
    assert timing.read_response_bytes(10) == 25
    assert timing.write_multiple_request_bytes(2) == 13
    expected = (8 + 25) * 11 / 9600 + 2 * 3.5 * 11 / 9600
    assert timing.transaction_seconds(8, 25, 9600) == pytest.approx(expected)
    with pytest.raises(ValueError):
        timing.frame_seconds(8, 0)


def test_the_simulated_line_and_the_bridge_time_frames_by_the_same_framing() -> None:
    # One definition of a character (timing.Framing) for both sides: by default 8N1, 10 bits
    # (the simulator once timed 11-bit characters while the bridge counted 10).
    unit = [SimulatedUnit(profile("ASJ"), 1)]
    for framing, bits in ((timing.DEFAULT_FRAMING, 10), (timing.Framing.parse("8E1"), 11)):
        line = SerialLine(
            "/dev/null",
            4800,
            parity=framing.parity,
            stopbits=framing.stopbits,
            bytesize=framing.bytesize,
        )
        settings = BusSettings("x", line)
        sim = SimulatedBus(unit, baudrate=4800, framing=line.framing)
        assert sim.bits_per_char == settings.bits_per_char == bits
        request, response = timing.read_request_bytes(), timing.read_response_bytes(10)
        assert sim.wire_seconds(request, response) == settings.wire_seconds(request, response)
    assert SimulatedBus(unit).framing == SerialLine("/dev/null").framing
    assert str(timing.Framing.parse("8n2")) == "8N2"
    for bad in ("8X1", "81", "9N1", "8N3"):
        with pytest.raises(ValueError, match=r"framing|parity|data bits|stop bits"):
            timing.Framing.parse(bad)


# --------------------------------------------------------------------------- unit model


def test_defaults_are_plausible() -> None:
    aim = SimulatedUnit(profile("AIM-R100"), 1)
    currents = [aim.get(f"loop_{n}_residual_current").value for n in range(1, 13)]
    assert all(isinstance(v, int) and 20 <= v <= 80 for v in currents)
    assert aim.get("loop_1_alarm_setpoint").value == 300
    assert aim.get("loop_7_fault").value == "normal"
    # The identify register says "residual-current monitor" as the profile expects.
    assert aim.get("meter_type").value == "residual_current_monitor"

    asj = SimulatedUnit(profile("ASJ"), 2)
    assert asj.get("rated_residual_operating_current").value == 300
    assert asj.get("prewarning_current").value == 150
    assert asj.get("alarm_status").value == "normal"
    assert asj.get("modbus_address").value == 2


def test_set_and_get_round_trip_through_registers() -> None:
    unit = SimulatedUnit(rcd_profile(), 5, values={"temperature": 31.5})
    assert unit.get("temperature").value == 31.5
    assert words(unit, "temperature") == encode(unit.spec("temperature"), 31.5)
    unit.set("breaker", "open")
    assert unit.get("breaker").value == "open"
    with pytest.raises(KeyError, match="no channel or setpoint 'nope'"):
        unit.set("nope", 1)
    with pytest.raises(ValueError, match="not a state"):
        unit.set("breaker", "ajar")


def test_bitfields_sharing_a_register_stay_independent() -> None:
    aim = SimulatedUnit(profile("AIM-R100"), 1)
    aim.set("loop_2_fault", "open_circuit")
    assert aim.get("loop_1_fault").value == "normal"
    assert aim.get("loop_2_fault").value == "open_circuit"
    assert aim.get("meter_type").value == "residual_current_monitor"


def test_alarm_and_warning_follow_the_value_without_a_reset_command() -> None:
    asj = SimulatedUnit(profile("ASJ"), 1)
    asj.set("residual_current", 200)  # over the 150 mA pre-warning
    assert asj.get("alarm_status").value == "warning"
    asj.set("residual_current", 300)  # at the 300 mA IΔn
    assert asj.get("alarm_status").value == "alarm"
    asj.set("residual_current", 40)  # no reset command: the status follows the value
    assert asj.get("alarm_status").value == "normal"


def test_alarm_latches_until_reset_once_the_cause_is_gone() -> None:
    unit = SimulatedUnit(rcd_profile(), 1)
    unit.set("residual_current", 400)
    assert unit.get("status").value == "alarm"
    unit.set("residual_current", 30)
    assert unit.get("status").value == "alarm"  # latched
    unit.write_registers(16, 32, [1])  # reset
    assert unit.get("status").value == "normal"
    unit.set("residual_current", 400)
    unit.write_registers(16, 32, [1])  # reset while the cause is present: stays
    assert unit.get("status").value == "alarm"
    assert unit.command_log == [CommandName.RESET, CommandName.RESET]


def test_wiring_fault_shows_the_state_and_the_sentinel() -> None:
    unit = SimulatedUnit(rcd_profile(), 1, values={"temperature": 30})
    unit.set_wiring_fault("temperature", "open_circuit")
    assert unit.get("status").value == "open_circuit"
    assert unit.get("temperature").fault == "open_circuit"
    unit.set_wiring_fault("temperature", None)
    assert unit.get("status").value == "normal"
    assert unit.get("temperature").value == 30
    with pytest.raises(ValueError, match="use one of open_circuit"):
        unit.set_wiring_fault("temperature", "short_circuit")


def test_modbus_level_refusals() -> None:
    unit = SimulatedUnit(rcd_profile(), 1)
    with pytest.raises(UnitException) as gap:
        unit.read_registers(3, 3, 2)  # 0x0004 is not in the map
    assert gap.value.code is ExceptionCode.ILLEGAL_ADDRESS
    with pytest.raises(UnitException) as function:
        unit.read_registers(4, 0, 1)  # the profile reads with FC 03
    assert function.value.code is ExceptionCode.ILLEGAL_FUNCTION
    with pytest.raises(UnitException) as read_only:
        unit.write_registers(16, 0, [5])
    assert read_only.value.code is ExceptionCode.ILLEGAL_ADDRESS
    with pytest.raises(UnitException) as range_:
        unit.write_registers(6, 16, [5000])  # setpoint above its 1000 mA maximum
    assert range_.value.code is ExceptionCode.ILLEGAL_VALUE
    with pytest.raises(UnitException) as command:
        unit.write_registers(6, 32, [7])  # not a command value
    assert command.value.code is ExceptionCode.ILLEGAL_VALUE
    assert unit.get("residual_current_alarm_setpoint").value == 300


def no_reset_profile() -> Profile:
    text = TEST_PROFILE.split("commands:")[0].replace("TEST-RCD", "TEST-NORESET")
    return load_profile_text(text + "commands:\n  self_test: {address: 32, value: 2}\n", "x.yaml")


def test_self_test_without_a_loop_stays_until_cleared() -> None:
    unit = SimulatedUnit(no_reset_profile(), 1)
    unit.execute(CommandName.SELF_TEST)
    assert unit.get("status").value == "alarm"
    assert unit.alarm_active()


async def test_self_test_without_a_reset_command_ends_by_itself() -> None:
    unit = SimulatedUnit(no_reset_profile(), 1, self_test_seconds=0.05)
    unit.write_registers(16, 32, [2])
    assert unit.get("status").value == "alarm"
    await wait_for(lambda: unit.get("status").value == "normal")
    assert not unit.alarm_active()


# --------------------------------------------------------------------------- transports


async def test_read_over_modbus_tcp(bus: SimulatedBus) -> None:
    server = await bus.serve_tcp("127.0.0.1", 0)
    assert server.port and server.url == f"tcp://127.0.0.1:{server.port}"
    client = await tcp_client(server)
    try:
        aim = bus.unit(1)
        loops = await read(client, 1, 0x004A, 12)
        assert loops == [aim.get(f"loop_{n}_residual_current").raw for n in range(1, 13)]
        assert await read(client, 2, 0x0000) == [42]
        assert await read(client, 2, 0x0008, 2) == [300, 150]
        assert (await read(client, 1, 0x000B))[0] >> 12 == 1  # identify: residual-current monitor
    finally:
        client.close()
    assert bus.frames_served == 4


async def test_read_over_rtu_over_tcp(bus: SimulatedBus) -> None:
    server = await bus.serve_tcp("127.0.0.1", 0, rtu=True)
    client = await tcp_client(server, rtu=True)
    try:
        assert await read(client, 2, 0x0000) == [42]
        assert await read(client, 1, 0x0056, 12) == [300] * 12
    finally:
        client.close()


async def test_read_over_a_pseudo_terminal(bus: SimulatedBus, tmp_path: Path) -> None:
    async with PtyLink(tmp_path / "bridge", tmp_path / "sim") as link:
        await bus.serve_serial(str(link.b_path))
        client = AsyncModbusSerialClient(
            port=str(link.a_path), framer=FramerType.RTU, baudrate=9600, timeout=1, retries=0
        )
        assert await client.connect()
        try:
            assert await read(client, 2, 0x0000) == [42]
            assert await read(client, 1, 0x004A, 2) == [20, 37]
        finally:
            client.close()
            await bus.stop()  # before the link goes, or pymodbus tries to reopen the port


async def test_reading_across_a_reserved_gap_is_exception_02(bus: SimulatedBus) -> None:
    client = await tcp_client(await bus.serve_tcp())
    try:
        # AIM-R100 defines nothing at 0x0002-0x0003 ...
        response = await client.read_holding_registers(0x0002, count=2, device_id=1)
        assert response.isError() and response.exception_code == 2
        # ... nor at 0x0009-0x000A, between tripping_time and the fault flags.
        response = await client.read_holding_registers(0x0008, count=4, device_id=1)
        assert response.isError() and response.exception_code == 2
        assert len(await read(client, 1, 0x000B, 5)) == 5  # the block without the gap reads
        # Writing a read-only register is refused the same way.
        response = await client.write_register(0x004A, 1, device_id=1)
        assert response.isError() and response.exception_code == 2
    finally:
        client.close()
    assert bus.counters.exceptions == 3


async def test_a_dropped_out_unit_is_silent_while_the_other_answers(bus: SimulatedBus) -> None:
    client = await tcp_client(await bus.serve_tcp(), reply_timeout=0.2)
    try:
        bus.unit(1).online = False
        with pytest.raises(ModbusException):
            await client.read_holding_registers(0x004A, count=1, device_id=1)
        assert await read(client, 2, 0x0000) == [42]
        with pytest.raises(ModbusException):  # a unit id nobody has: silence too
            await client.read_holding_registers(0x0000, count=1, device_id=9)
        bus.unit(1).online = True
        assert await read(client, 1, 0x004A) == [20]
    finally:
        client.close()
    assert bus.counters.dropped == 2


@pytest.mark.parametrize("rtu", [True, False], ids=["rtu-over-tcp", "modbus-tcp"])
async def test_a_corrupted_response_is_not_accepted(bus: SimulatedBus, rtu: bool) -> None:
    client = await tcp_client(await bus.serve_tcp(rtu=rtu), rtu=rtu, reply_timeout=0.2)
    try:
        bus.corrupt_rate = 1.0
        with pytest.raises(ModbusException):
            await client.read_holding_registers(0x0000, count=1, device_id=2)
        bus.corrupt_rate = 0.0
        assert await read(client, 2, 0x0000) == [42]
    finally:
        client.close()
    assert bus.counters.corrupted == 1


async def test_corruption_is_repeatable_with_a_seed() -> None:
    def pattern(seed: int) -> list[bytes]:
        line = SimulatedBus([SimulatedUnit(profile("ASJ"), 1)], corrupt_rate=0.5, seed=seed)
        frame = bytes([1, 3, 2, 0, 42, 0x38, 0x5B])
        return [line._outgoing(FramerType.RTU, 1, frame) for _ in range(20)]

    first = pattern(7)
    assert first == pattern(7)
    assert len(set(first)) == 2  # some clean, some corrupted


async def test_wire_timing_delays_each_response() -> None:
    line = SimulatedBus([SimulatedUnit(profile("ASJ"), 1)], baudrate=1200, wire_timing=True)
    client = await tcp_client(await line.serve_tcp())
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await read(client, 1, 0x0000, 1)
        elapsed = loop.time() - started
    finally:
        client.close()
        await line.stop()
    # Timed by the line's framing: 8N1 (10-bit characters) by default, as the bridge counts.
    assert elapsed >= timing.transaction_seconds(
        8, timing.read_response_bytes(1), 1200, timing.DEFAULT_FRAMING.bits_per_char
    )


# --------------------------------------------------------------------------- commands


async def test_trip_and_close_move_the_breaker_and_self_test_latches() -> None:
    line = SimulatedBus([SimulatedUnit(rcd_profile(), 3)])
    client = await tcp_client(await line.serve_tcp())
    unit = line.unit(3)
    try:
        response = await client.write_register(33, 0, device_id=3)  # trip, FC 06
        assert not response.isError() and response.registers == [0]
        assert unit.get("breaker").value == "open"
        assert not (await client.write_register(33, 1, device_id=3)).isError()  # close
        assert unit.get("breaker").value == "closed"

        assert not (await client.write_registers(32, [2], device_id=3)).isError()  # self-test
        assert unit.get("status").value == "alarm"
        assert not (await client.write_registers(32, [1], device_id=3)).isError()  # reset
        assert unit.get("status").value == "normal"

        assert not (await client.write_register(16, 450, device_id=3)).isError()
        assert await read(client, 3, 16) == [450]
        response = await client.write_register(16, 5, device_id=3)  # under the 20 mA minimum
        assert response.isError() and response.exception_code == 3
    finally:
        client.close()
        await line.stop()
    assert unit.command_log == [
        CommandName.TRIP,
        CommandName.CLOSE,
        CommandName.SELF_TEST,
        CommandName.RESET,
    ]


async def test_sim_arcm_commands_and_latching_over_modbus() -> None:
    line = SimulatedBus([SimulatedUnit(profile("SIM-ARCM"), 1)])
    client = await tcp_client(await line.serve_tcp())
    unit = line.unit(1)
    arcm = unit.profile
    try:

        def address(name: CommandName) -> int:
            command = arcm.commands[name]
            assert command.address is not None
            return command.address

        assert unit.get("breaker").value == "closed"
        await client.write_registers(address(CommandName.TRIP), [1], device_id=1)
        assert unit.get("breaker").value == "open"
        await client.write_registers(address(CommandName.CLOSE), [1], device_id=1)
        assert unit.get("breaker").value == "closed"

        await client.write_registers(address(CommandName.SELF_TEST), [1], device_id=1)
        assert unit.get("residual_current_alarm").value == 1
        await client.write_registers(address(CommandName.RESET), [1], device_id=1)
        assert unit.get("residual_current_alarm").value == 0

        unit.set("temperature_3", 95.5)  # over the 80 °C default setpoint
        assert unit.get("temperature_3_alarm").value == 1
        assert unit.get("temperature_3_at_alarm").value == 95.5
        unit.set("temperature_3", 30)
        assert unit.get("temperature_3_alarm").value == 1  # latched until reset
        await client.write_registers(address(CommandName.RESET), [1], device_id=1)
        assert unit.get("temperature_3_alarm").value == 0

        # 0x000C is reserved in the simulated map: a block across it is refused.
        response = await client.read_holding_registers(0x000B, count=3, device_id=1)
        assert response.isError() and response.exception_code == 2
        identify = arcm.identify
        assert identify is not None
        assert await read(client, 1, identify.address) == [identify.equals]
    finally:
        client.close()
        await line.stop()


async def test_sim_aafd_arc_burst_raises_the_arc_alarm() -> None:
    line = SimulatedBus([SimulatedUnit(profile("SIM-AAFD"), 4)])
    unit = line.unit(4)
    try:
        task = line.inject(Scenario(ScenarioKind.ARC_BURST, unit=4, seconds=0.05, arcs=3))
        await wait_for(lambda: unit.get("arc_alarm").value == 1)
        await task
        assert unit.get("arc_count").value == 3
        assert unit.get("arc_alarm").value == 1  # latched: the profile has a reset command
        unit.execute(CommandName.RESET)
        assert unit.get("arc_alarm").value == 0
        unit.execute(CommandName.SELF_TEST)  # an arc simulation
        assert unit.get("arc_alarm").value == 1
    finally:
        await line.stop()


# --------------------------------------------------------------------------- scenarios

SCENARIO_FILE = """
- {at: 0, do: leakage_ramp, unit: 2, to: 320, seconds: 0.2}
- {at: 0, do: wiring_fault, unit: 1, channel: loop_3_residual_current, state: open_circuit}
- {at: 0.05, do: slow_turnaround, delay: 0.01, seconds: 0.1}
- {at: 0, do: crc_corruption, rate: 0.25}
"""


def test_scenario_file_parses() -> None:
    steps = load_scenarios(SCENARIO_FILE)
    assert [s.do for s in steps] == [
        ScenarioKind.LEAKAGE_RAMP,
        ScenarioKind.WIRING_FAULT,
        ScenarioKind.CRC_CORRUPTION,
        ScenarioKind.SLOW_TURNAROUND,
    ]
    assert steps[0].to == 320 and steps[0].seconds == 0.2
    assert parse_step({"do": "arc_burst", "unit": 2, "channel": "arcs"}).channels == ("arcs",)


def test_scenario_file_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(SCENARIO_FILE, encoding="utf-8")
    assert len(load_scenarios(path)) == 4
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenarios(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- {at: 1, do: leakage_ramp, unit: 1}", r"step 1 \(leakage_ramp\).*to: required"),
        ("- {do: melt, unit: 1}", r"step 1: do: unknown scenario 'melt'; use one of"),
        ("- {do: dropout, unit: 1, secs: 3}", r"step 1 \(dropout\).*secs: extra keys"),
        ("- {do: dropout}\n- {do: dropout, unit: 0}", r"step 1 .*unit.*step 2 .*unit"),
        ("- {do: crc_corruption, rate: 2}", r"rate: value must be at most 1"),
        ("- {do: slow_turnaround}", r"delay: required unless clear is true"),
        ("- {at: -1, do: dropout, unit: 1}", r"at: value must be at least 0"),
        ("do: dropout", r"must be a list of steps"),
        ("- [oops", r"not valid YAML"),
    ],
)
def test_bad_scenario_steps_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        load_scenarios(text)


async def test_injecting_checks_against_the_bus(bus: SimulatedBus) -> None:
    with pytest.raises(ScenarioError, match="no unit 7"):
        bus.inject(parse_step({"do": "dropout", "unit": 7}))
    with pytest.raises(ScenarioError, match="AIM-R100 has no temperature channel"):
        bus.inject(parse_step({"do": "temperature_rise", "unit": 1, "to": 90}))
    with pytest.raises(ScenarioError, match="has no arc_count channel"):
        bus.inject(parse_step({"do": "arc_burst", "unit": 2}))
    with pytest.raises(ScenarioError, match="'short' is not a wiring fault"):
        bus.inject(parse_step({"do": "wiring_fault", "unit": 2, "state": "short"}))


async def test_a_scenario_file_plays_on_the_bus(bus: SimulatedBus) -> None:
    task = bus.play(load_scenarios(SCENARIO_FILE))
    asj, aim = bus.unit(2), bus.unit(1)
    await wait_for(lambda: asj.get("residual_current").value == 320)
    assert asj.get("alarm_status").value == "alarm"
    assert aim.get("loop_3_fault").value == "open_circuit"
    assert bus.corrupt_rate == 0.25
    await task
    assert bus.turnaround_delay == 0.0  # the timed step undid itself
    bus.inject(
        parse_step(
            {"do": "wiring_fault", "unit": 1, "channel": "loop_3_residual_current", "clear": True}
        )
    )
    await wait_for(lambda: aim.get("loop_3_fault").value == "normal")


async def test_timed_dropout_ends_by_itself(bus: SimulatedBus) -> None:
    client = await tcp_client(await bus.serve_tcp(), reply_timeout=0.2)
    try:
        bus.inject(Scenario(ScenarioKind.DROPOUT, unit=1, seconds=0.3))
        await wait_for(lambda: not bus.unit(1).online)
        with pytest.raises(ModbusException):
            await client.read_holding_registers(0x004A, count=1, device_id=1)
        await wait_for(lambda: bus.unit(1).online)
        assert await read(client, 1, 0x004A) == [20]
    finally:
        client.close()


async def test_scenarios_are_cancelled_and_undone_on_stop(bus: SimulatedBus) -> None:
    bus.inject(Scenario(ScenarioKind.DROPOUT, unit=2, seconds=60))
    bus.inject(Scenario(ScenarioKind.LEAKAGE_RAMP, unit=2, to=900, seconds=60))
    await wait_for(lambda: not bus.unit(2).online)
    await bus.stop()
    assert bus.unit(2).online


# --------------------------------------------------------------------------- pty plug


async def test_unplug_fails_the_open_port_and_replug_lets_a_new_client_read(
    bus: SimulatedBus, tmp_path: Path
) -> None:
    async with PtyLink(tmp_path / "ttyUSB0", tmp_path / "bus") as link:
        await bus.serve_serial(str(link.b_path))

        def client() -> AsyncModbusSerialClient:
            return AsyncModbusSerialClient(
                port=str(link.a_path),
                framer=FramerType.RTU,
                baudrate=9600,
                timeout=0.2,
                retries=0,
                reconnect_delay=0,
            )

        first = client()
        assert await first.connect()
        assert await read(first, 2, 0x0000) == [42]

        await link.unplug()
        assert not link.a_path.exists() and not link.plugged("a")
        with pytest.raises(ModbusException):
            await first.read_holding_registers(0x0000, count=1, device_id=2)
        await wait_for(lambda: not first.connected)
        first.close()
        assert not await client().connect()  # nothing to open while unplugged

        await link.replug()
        second = client()
        assert await second.connect()
        try:
            assert await read(second, 2, 0x0000) == [42]
        finally:
            second.close()
            await bus.stop()
    assert not link.a_path.exists() and not link.b_path.exists()


async def test_pty_link_refuses_to_replace_a_real_file(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("not a symlink", encoding="utf-8")
    link = PtyLink(tmp_path / "taken", tmp_path / "other")
    with pytest.raises(FileExistsError):
        await link.start()
    await link.close()


# --------------------------------------------------------------------------- command line


async def test_json_lines_inject_steps_and_bad_lines_are_reported(bus: SimulatedBus) -> None:
    errors = io.StringIO()
    lines = io.StringIO(
        '{"do": "leakage_ramp", "unit": 2, "to": 77, "seconds": 0}\n'
        "not json\n"
        '{"do": "arc_burst", "unit": 2}\n'
        "\n"
    )
    await read_steps(bus, lines, errors)
    await wait_for(lambda: bus.unit(2).get("residual_current").value == 77)
    reported = errors.getvalue()
    assert "stdin line 2: not a JSON object" in reported
    assert "stdin line 3" in reported and "no arc_count channel" in reported
    assert not inject_line(bus, "# a comment", 9, errors)


def test_simulate_arguments() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--unit", "1:AIM-R100", "--unit", "2:ASJ", "--tcp", "[::1]:5020"])
    assert args.units == [(1, "AIM-R100"), (2, "ASJ")] and args.tcp == ("::1", 5020)
    args = parser.parse_args(["--unit", "3:SIM-ARCM", "--pty", "/tmp/tty", "--wire-timing"])
    assert args.pty == "/tmp/tty" and args.wire_timing and args.baud == 9600
    for bad in (
        ["--unit", "AIM-R100", "--tcp", "h:1"],
        ["--unit", "0:ASJ", "--tcp", "h:1"],
        ["--unit", "1:ASJ", "--tcp", "h:99999"],
        ["--unit", "1:ASJ", "--tcp", "h:1", "--pty", "/tmp/x"],
        ["--unit", "1:ASJ"],
    ):
        with pytest.raises(SystemExit):
            parser.parse_args(bad)


async def test_simulate_command_serves_until_terminated() -> None:
    runner = (
        "import argparse, asyncio, sys\n"
        "from electrical_safety_bridge.simulator import command\n"
        "parser = argparse.ArgumentParser()\n"
        "command.add_arguments(parser)\n"
        "sys.exit(asyncio.run(command.run(parser.parse_args(sys.argv[1:]))))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "addon")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        runner,
        "--unit",
        "1:ASJ",
        "--unit",
        "2:AIM-R100",
        "--tcp",
        "127.0.0.1:0",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    assert process.stdin and process.stdout and process.stderr
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        match = re.search(r"serving tcp://127\.0\.0\.1:(\d+) \(units 1:ASJ, 2:AIM-R100;", line)
        assert match, line
        client = AsyncModbusTcpClient("127.0.0.1", port=int(match[1]), timeout=1, retries=0)
        assert await client.connect()
        process.stdin.write(
            b'{"do": "nonsense"}\n{"do": "leakage_ramp", "unit": 1, "to": 350, "seconds": 0.2}\n'
        )
        await process.stdin.drain()

        async def ramped() -> bool:
            return (await read(client, 1, 0x0000))[0] == 350

        await wait_for(ramped, timeout=10, interval=0.05)
        client.close()
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0
        assert b"unknown scenario 'nonsense'" in await process.stderr.read()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
