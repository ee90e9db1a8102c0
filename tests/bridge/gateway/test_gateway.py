"""The Modbus gateway against real pymodbus clients, with the bridge's Bus running as in
production: polling simulated units over a pseudo-terminal (serial RTU) while other masters
reach the same line through the gateway's Modbus TCP and RTU-over-TCP listeners."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import socket
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.framer import FramerRTU, FramerSocket, FramerType
from pymodbus.pdu import DecodePDU, ExceptionResponse, ModbusPDU
from pymodbus.pdu.device import ModbusControlBlock
from pymodbus.pdu.mei_message import ReadDeviceInformationResponse
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersRequest,
    WriteSingleRegisterRequest,
)

from electrical_safety_bridge.bus.bus_settings import BusSettings, DeviceSpec, PollIntervals
from electrical_safety_bridge.bus.scheduler import Bus
from electrical_safety_bridge.common.enums import CommandName, EventType
from electrical_safety_bridge.common.workflow import Lockout
from electrical_safety_bridge.config.bridge_config import ConfigError, parse_config
from electrical_safety_bridge.gateway.gateway_settings import DEFAULT_IDLE_TIMEOUT
from electrical_safety_bridge.gateway.server import Gateway
from electrical_safety_bridge.modbus.lines import SerialLine, TcpLine
from electrical_safety_bridge.modbus.transport import ModbusTransport
from electrical_safety_bridge.profiles.loader import find_profile
from electrical_safety_bridge.profiles.model import Profile
from electrical_safety_bridge.safety.events import BridgeEvent
from electrical_safety_bridge.simulator import PtyLink, SimulatedBus, SimulatedUnit

from ..conftest import wait_for

pytestmark = pytest.mark.usefixtures("socket_enabled")

FAST = PollIntervals(alarm=0.05, telemetry=0.2, slow=1.0)
SETPOINT = 0x0030  # SIM-ARCM residual_current_alarm_setpoint, writable, 20..1000 mA
GATEWAY_PATH_UNAVAILABLE = 0x0A
GATEWAY_NO_RESPONSE = 0x0B
FRAMERS = pytest.mark.parametrize(
    "framer", [FramerType.SOCKET, FramerType.RTU], ids=["modbus-tcp", "rtu-over-tcp"]
)


@functools.cache
def arcm() -> Profile:
    return find_profile("SIM-ARCM")


class GatedTransport:
    """The real transport, with a gate in front of ``execute`` and a log of what passed.

    Holding the gate keeps one gateway request in flight on the bus, so that others wait in
    the bus queue for as long as a test needs: no timing guesses.
    """

    def __init__(self, inner: ModbusTransport) -> None:
        self.inner = inner
        self.gate = asyncio.Event()
        self.gate.set()
        self.waiting: list[ModbusPDU] = []  # requests that reached the gate
        self.sent: list[tuple[int, int, int]] = []  # (function, unit, address) sent on

    @property
    def connected(self) -> bool:
        return self.inner.connected

    async def open(self) -> None:
        await self.inner.open()

    def close(self) -> None:
        self.inner.close()

    async def read(
        self, unit: int, function: int, address: int, count: int, response_timeout: float
    ) -> list[int]:
        return await self.inner.read(unit, function, address, count, response_timeout)

    async def write(
        self, unit: int, function: int, address: int, values: list[int], response_timeout: float
    ) -> None:
        await self.inner.write(unit, function, address, values, response_timeout)

    async def execute(self, request: ModbusPDU, response_timeout: float) -> ModbusPDU:
        self.waiting.append(request)
        await self.gate.wait()
        self.sent.append((request.function_code, request.dev_id, request.address))
        return await self.inner.execute(request, response_timeout)


@dataclass
class Rig:
    sim: SimulatedBus
    link: PtyLink
    bus: Bus
    gateway: Gateway
    gated: GatedTransport
    events: list[BridgeEvent] = field(default_factory=list)  # what the bus emitted

    def bus_went_down(self) -> bool:
        return self.bus.up is False or any(e.type is EventType.BUS_DOWN for e in self.events)


@contextlib.asynccontextmanager
async def rig(
    tmp_path: Path,
    *,
    sim_units: Sequence[int] = (1, 2, 3, 9),
    bus_units: Sequence[int] = (1, 2, 9),
    dead: Sequence[int] = (9,),
    allow_writes: bool = True,
    **gateway_options: Any,
) -> AsyncIterator[Rig]:
    """SIM-ARCM units on a pty line, a running Bus polling ``bus_units``, and a gateway."""
    sim = SimulatedBus([SimulatedUnit(arcm(), u) for u in sim_units])
    for unit in dead:
        sim.unit(unit).online = False
    async with PtyLink(tmp_path / "bridge", tmp_path / "sim") as link:
        await sim.serve_serial(str(link.b_path))
        settings = BusSettings(
            "pty",
            SerialLine(str(link.a_path), 9600),
            intervals=FAST,
            turnaround=0.25,
            backoff_max=0.5,
            reopen_max=0.2,
        )
        gated = GatedTransport(ModbusTransport(settings.line))
        specs = [DeviceSpec(f"arcm-{u}", u, arcm()) for u in bus_units]
        events: list[BridgeEvent] = []
        bus = Bus(settings, specs, emit=events.append, transport=gated)
        task = asyncio.create_task(bus.run())
        gateway = Gateway(
            [bus],
            "127.0.0.1",
            tcp_port=0,
            rtu_port=0,
            allow_writes=allow_writes,
            **gateway_options,
        )
        await gateway.start()
        try:
            await wait_for(lambda: bus.up is True)
            yield Rig(sim, link, bus, gateway, gated, events)
        finally:
            await gateway.stop()
            bus.stop()
            gated.gate.set()
            await asyncio.wait_for(task, timeout=5)
            await sim.stop()


def port_of(gateway: Gateway, framer: FramerType) -> int:
    port = gateway.rtu_port if framer is FramerType.RTU else gateway.tcp_port
    assert port
    return port


@contextlib.asynccontextmanager
async def client(gateway: Gateway, framer: FramerType) -> AsyncIterator[AsyncModbusTcpClient]:
    """A pymodbus client of the gateway: no retries, no reconnects."""
    modbus = AsyncModbusTcpClient(
        "127.0.0.1",
        port=port_of(gateway, framer),
        framer=framer,
        retries=0,
        reconnect_delay=0,
        timeout=5,
    )
    assert await modbus.connect()
    try:
        yield modbus
    finally:
        modbus.close()


def setpoint(sim: SimulatedBus, unit: int) -> Any:
    return sim.unit(unit).get("residual_current_alarm_setpoint").value


def queued_gateway_requests(bus: Bus) -> int:
    """Gateway requests waiting in the bus's queue (not yet sent, not yet skipped)."""
    return int(bus.schedule_status()["queued_gateway_requests"])


# --------------------------------------------------------------------------- reads and writes


@FRAMERS
async def test_reads_and_writes_through_the_gateway(tmp_path: Path, framer: FramerType) -> None:
    async with rig(tmp_path) as r, client(r.gateway, framer) as modbus:
        r.sim.unit(1).set("residual_current", 123)
        r.sim.unit(1).set("voltage", 230.5)
        response = await modbus.read_holding_registers(0, count=6, device_id=1)
        assert not response.isError()
        assert response.registers == r.sim.unit(1).peek(0, 6)
        assert response.registers[0] == 123
        assert response.registers[5] == 2305

        response = await modbus.write_register(SETPOINT, 450, device_id=1)
        assert not response.isError()
        assert setpoint(r.sim, 1) == 450
        response = await modbus.read_holding_registers(SETPOINT, count=1, device_id=1)
        assert response.registers == [450]
        # FC 16 as well, through the same queue.
        response = await modbus.write_registers(SETPOINT, [480], device_id=1)
        assert not response.isError()
        assert setpoint(r.sim, 1) == 480
        # The bridge's own poll reads the setpoint the other master wrote.
        await wait_for(
            lambda: (
                r.bus.snapshot("arcm-1")["setpoints"].get("residual_current_alarm_setpoint") == 480
            )
        )

        # The device's own exception reply is passed through: 5000 mA is out of its range.
        response = await modbus.write_register(SETPOINT, 5000, device_id=1)
        assert response.isError()
        assert response.exception_code == 0x03
        assert setpoint(r.sim, 1) == 480
        # So is exception 02 for a register the unit does not have.
        response = await modbus.read_holding_registers(0x000C, count=1, device_id=1)
        assert response.isError()
        assert response.exception_code == 0x02

        # Unit 3 answers on the line but the bridge does not poll it: with one bus the
        # gateway forwards anyway.
        r.sim.unit(3).set("residual_current", 33)
        response = await modbus.read_holding_registers(0, count=1, device_id=3)
        assert response.registers == [33]

        # A dead unit times out: 0x0B. Broadcast (unit 0) is not forwarded: 0x0A.
        response = await modbus.read_holding_registers(0, count=1, device_id=9)
        assert response.isError()
        assert response.exception_code == GATEWAY_NO_RESPONSE
        response = await modbus.write_register(SETPOINT, 300, device_id=0)
        assert response.exception_code == GATEWAY_PATH_UNAVAILABLE
        assert setpoint(r.sim, 1) == 480

        stats = r.gateway.stats
        assert stats.timeouts == 1
        assert stats.unavailable == 1
        assert stats.answered == stats.requests


async def test_writes_are_sent_once_even_when_the_unit_is_silent(tmp_path: Path) -> None:
    # The bus polls nothing here, so every request the simulator sees came from the gateway.
    async with (
        rig(tmp_path, sim_units=(1, 5), bus_units=(), dead=(5,)) as r,
        client(r.gateway, FramerType.SOCKET) as modbus,
    ):
        counters = r.sim.counters
        before = counters.requests
        response = await modbus.write_register(SETPOINT, 400, device_id=5)
        assert response.exception_code == GATEWAY_NO_RESPONSE
        response = await modbus.write_registers(SETPOINT, [400], device_id=5)
        assert response.exception_code == GATEWAY_NO_RESPONSE
        assert counters.requests - before == 2, "a write that got no answer is never repeated"

        before = counters.requests
        response = await modbus.write_register(SETPOINT, 400, device_id=1)
        assert not response.isError()
        assert counters.requests - before == 1
        assert r.gated.sent == [(6, 5, SETPOINT), (16, 5, SETPOINT), (6, 1, SETPOINT)]


# --------------------------------------------------------------------------- transaction ids


async def read_frames(
    reader: asyncio.StreamReader, framer: FramerSocket | FramerRTU, sizes: Sequence[int]
) -> list[ModbusPDU]:
    """Read responses of known sizes and decode each with pymodbus."""
    responses = []
    for size in sizes:
        frame = await asyncio.wait_for(reader.readexactly(size), timeout=5)
        used, pdu = framer.handleFrame(frame, 0, 0)
        assert used == size
        assert pdu is not None
        responses.append(pdu)
    return responses


async def pipelined(
    port: int | None,
    framer: FramerSocket | FramerRTU,
    requests: Sequence[ModbusPDU],
    sizes: Sequence[int],
) -> list[ModbusPDU]:
    """Send every request in one TCP segment, framed by ``framer``; the decoded answers."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"".join(framer.buildFrame(p) for p in requests))
        await writer.drain()
        return await read_frames(reader, framer, sizes)
    finally:
        writer.close()


async def test_transaction_ids_are_the_clients_own(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        r.sim.unit(1).set("residual_current", 11)
        r.sim.unit(2).set("residual_current", 22)
        # pymodbus clients check the id of every answer themselves; these ids are theirs.
        async with client(r.gateway, FramerType.SOCKET) as modbus:
            ids = []
            for _ in range(5):
                response = await modbus.read_holding_registers(0, count=1, device_id=1)
                ids.append(response.transaction_id)
            assert ids == [ids[0] + i for i in range(5)]

        # Two requests pipelined in one TCP segment, with ids the bus side never uses (its
        # RTU line has no transaction ids at all): both answered, in order, each with its id.
        build = FramerSocket(DecodePDU(is_server=False))
        requests = [
            ReadHoldingRegistersRequest(address=0, count=1, dev_id=1, transaction_id=0xBEEF),
            ReadHoldingRegistersRequest(address=0, count=3, dev_id=2, transaction_id=0x1234),
        ]
        first, second = await pipelined(r.gateway.tcp_port, build, requests, [9 + 2 * 1, 9 + 2 * 3])
        assert (first.transaction_id, first.dev_id, first.registers) == (0xBEEF, 1, [11])
        assert second.transaction_id == 0x1234
        assert second.dev_id == 2
        assert second.registers == r.sim.unit(2).peek(0, 3)

        # The same on the RTU listener: two frames in one segment, two answers in order.
        rtu = FramerRTU(DecodePDU(is_server=False))
        first, second = await pipelined(r.gateway.rtu_port, rtu, requests, [5 + 2 * 1, 5 + 2 * 3])
        assert (first.dev_id, first.registers) == (1, [11])
        assert (second.dev_id, second.registers) == (2, r.sim.unit(2).peek(0, 3))


# --------------------------------------------------------------------------- concurrency


async def test_concurrent_clients_get_their_own_answers_while_one_hammers_a_dead_unit(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path) as r:
        for unit in (1, 2):
            device = r.sim.unit(unit)
            device.set("residual_current", 100 * unit)
            for n in range(1, 5):
                device.set(f"temperature_{n}", 20 * unit + n)
            device.set("voltage", 220 + unit)
        expected = {u: r.sim.unit(u).peek(0, 6) for u in (1, 2)}
        assert all(a != b for a, b in zip(expected[1], expected[2], strict=True))

        async def reads(modbus: AsyncModbusTcpClient, unit: int, n: int) -> list[ModbusPDU]:
            # Counts 1..6 in turn, so a crossed answer would also have the wrong length.
            return list(
                await asyncio.gather(
                    *(
                        modbus.read_holding_registers(0, count=1 + i % 6, device_id=unit)
                        for i in range(n)
                    )
                )
            )

        async with (
            client(r.gateway, FramerType.SOCKET) as a,
            client(r.gateway, FramerType.RTU) as b,
            client(r.gateway, FramerType.SOCKET) as c,
        ):
            got_a, got_b, got_c = await asyncio.gather(
                reads(a, 1, 30), reads(b, 2, 30), reads(c, 9, 6)
            )

        for unit, responses in ((1, got_a), (2, got_b)):
            assert len(responses) == 30
            for i, response in enumerate(responses):
                assert not response.isError(), f"unit {unit} request {i}: {response}"
                assert response.dev_id == unit
                assert response.registers == expected[unit][: 1 + i % 6]
        assert [response.exception_code for response in got_c] == [GATEWAY_NO_RESPONSE] * 6
        assert r.gateway.stats.timeouts == 6
        assert r.bus.up is True


# --------------------------------------------------------------------------- failures


async def test_a_line_that_is_down_answers_0x0a_and_recovers(tmp_path: Path) -> None:
    async with (
        rig(tmp_path) as r,
        client(r.gateway, FramerType.SOCKET) as tcp,
        client(r.gateway, FramerType.RTU) as rtu,
    ):
        assert not (await tcp.read_holding_registers(0, count=1, device_id=1)).isError()
        await r.link.unplug()
        await wait_for(lambda: r.bus.up is False)
        for modbus in (tcp, rtu):
            response = await modbus.read_holding_registers(0, count=1, device_id=1)
            assert response.isError()
            assert response.exception_code == GATEWAY_PATH_UNAVAILABLE
            response = await modbus.write_register(SETPOINT, 400, device_id=2)
            assert response.exception_code == GATEWAY_PATH_UNAVAILABLE
        await r.link.replug()
        await wait_for(lambda: r.bus.up is True)
        r.sim.unit(1).set("residual_current", 77)

        async def answered() -> bool:
            response = await rtu.read_holding_registers(0, count=1, device_id=1)
            return not response.isError() and response.registers == [77]

        await wait_for(answered)


async def test_a_client_that_leaves_has_its_queued_request_dropped(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, client(r.gateway, FramerType.SOCKET) as stays:
        # Hold the line with one gateway request, so the next one waits in the bus queue.
        r.gated.gate.clear()
        held = asyncio.ensure_future(stays.read_holding_registers(0, count=1, device_id=1))
        await wait_for(lambda: len(r.gated.waiting) == 1)

        async with client(r.gateway, FramerType.RTU) as leaves:
            write = asyncio.ensure_future(leaves.write_register(SETPOINT, 777, device_id=2))
            await wait_for(lambda: queued_gateway_requests(r.bus) == 1)  # behind the held read
        # The client is gone with its write still queued (its own wait for the answer is
        # abandoned too: pymodbus would otherwise sit out its timeout).
        write.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await write
        await wait_for(lambda: r.gateway.clients == 1)
        assert r.gateway.stats.dropped == 1
        assert queued_gateway_requests(r.bus) == 1  # the job stays until its turn, then is skipped

        r.gated.gate.set()
        assert not (await held).isError()
        await wait_for(lambda: queued_gateway_requests(r.bus) == 0)
        # A later request goes through: the queue moved past the dropped write without
        # sending it, and the unit never saw it.
        response = await stays.read_holding_registers(SETPOINT, count=1, device_id=2)
        assert not response.isError()
        assert response.registers != [777]
        assert setpoint(r.sim, 2) != 777
        assert [sent[0] for sent in r.gated.sent] == [3, 3]
        assert len(r.gated.waiting) == 2


def mbap(tid: int, unit: int, payload: bytes) -> bytes:
    return FramerSocket(DecodePDU(is_server=False)).encode(payload, unit, tid)


async def test_garbage_does_not_take_the_listener_down(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        noise = random.Random(7).randbytes(2000)
        decode = FramerSocket(DecodePDU(is_server=False))

        # Modbus TCP: an unknown function is answered 0x01, a malformed or oversized read
        # 0x03, each with its own transaction id and without touching the line.
        reader, writer = await asyncio.open_connection("127.0.0.1", r.gateway.tcp_port)
        try:
            writer.write(mbap(0x0101, 1, b"\x41\x00\x00"))
            writer.write(mbap(0x0102, 1, b"\x03\x00"))  # FC 03 with a truncated body
            writer.write(mbap(0x0103, 1, bytes([3, 0, 0, 0, 200])))  # 200 registers
            await writer.drain()
            answers = await read_frames(reader, decode, [9, 9, 9])
            assert [(a.transaction_id, a.function_code, a.exception_code) for a in answers] == [
                (0x0101, 0xC1, 0x01),
                (0x0102, 0x83, 0x03),
                (0x0103, 0x83, 0x03),
            ]
            assert r.gated.waiting == []
            # Then noise: a Modbus TCP stream cannot be resynchronised, so it is closed.
            writer.write(b"\x00\x01\xff\xff" + noise)
            await writer.drain()
            assert await asyncio.wait_for(reader.read(), timeout=5) == b""
        finally:
            writer.close()

        # RTU over TCP: noise, a frame with a broken CRC, then a half frame and a hang-up.
        reader, writer = await asyncio.open_connection("127.0.0.1", r.gateway.rtu_port)
        frame = FramerRTU(DecodePDU(is_server=False)).buildFrame(
            WriteSingleRegisterRequest(address=SETPOINT, registers=[666], dev_id=1)
        )
        writer.write(noise + frame[:-1] + bytes([frame[-1] ^ 0xFF]) + frame[:4])
        await writer.drain()
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        await wait_for(lambda: r.gateway.clients == 0)

        # The listeners still serve, and nothing of the garbage reached the unit.
        for framer in (FramerType.SOCKET, FramerType.RTU):
            async with client(r.gateway, framer) as modbus:
                response = await modbus.read_holding_registers(0, count=2, device_id=1)
                assert response.registers == r.sim.unit(1).peek(0, 2)
        assert setpoint(r.sim, 1) != 666
        assert all(sent[0] == 3 for sent in r.gated.sent)


async def test_clients_beyond_the_limit_are_refused_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="electrical_safety_bridge.gateway.server")
    async with (
        rig(tmp_path, max_clients=2) as r,
        client(r.gateway, FramerType.SOCKET) as first,
    ):
        async with client(r.gateway, FramerType.RTU):
            await wait_for(lambda: r.gateway.clients == 2)
            reader, writer = await asyncio.open_connection("127.0.0.1", r.gateway.tcp_port)
            assert await asyncio.wait_for(reader.read(), timeout=5) == b"", "closed at once"
            writer.close()
            assert r.gateway.stats.refused == 1
            refusals = [m for m in caplog.messages if "refused" in m]
            assert len(refusals) == 1
            assert "max_clients" in refusals[0]
            assert not (await first.read_holding_registers(0, count=1, device_id=1)).isError()
        await wait_for(lambda: r.gateway.clients == 1)
        async with client(r.gateway, FramerType.RTU) as again:
            assert not (await again.read_holding_registers(0, count=1, device_id=2)).isError()


# --------------------------------------------------------------------------- several buses


async def test_routing_by_unit_over_several_buses(tmp_path: Path) -> None:
    pty_sim = SimulatedBus([SimulatedUnit(arcm(), u) for u in (1, 2)])
    tcp_sim = SimulatedBus([SimulatedUnit(arcm(), u) for u in (2, 7)])
    pty_sim.unit(1).set("residual_current", 101)
    tcp_sim.unit(7).set("residual_current", 707)
    async with PtyLink(tmp_path / "bridge", tmp_path / "sim") as link:
        await pty_sim.serve_serial(str(link.b_path))
        served = await tcp_sim.serve_tcp("127.0.0.1", 0)
        assert served.port is not None
        buses = [
            Bus(
                BusSettings("pty", SerialLine(str(link.a_path), 9600), intervals=FAST),
                [DeviceSpec("a1", 1, arcm()), DeviceSpec("a2", 2, arcm())],
            ),
            Bus(
                BusSettings("tcp", TcpLine("127.0.0.1", served.port), intervals=FAST),
                [DeviceSpec("b2", 2, arcm()), DeviceSpec("b7", 7, arcm())],
            ),
        ]
        tasks = [asyncio.create_task(bus.run()) for bus in buses]
        gateway = Gateway(buses, "127.0.0.1", tcp_port=0)
        assert gateway.rtu_port is None
        await gateway.start()
        try:
            async with client(gateway, FramerType.SOCKET) as modbus:
                response = await modbus.read_holding_registers(0, count=1, device_id=1)
                assert response.registers == [101]
                response = await modbus.read_holding_registers(0, count=1, device_id=7)
                assert response.registers == [707]
                # Unit 2 is on both lines: which one is meant cannot be known.
                response = await modbus.read_holding_registers(0, count=1, device_id=2)
                assert response.exception_code == GATEWAY_PATH_UNAVAILABLE
                # Unit 42 is on neither: nobody answers.
                response = await modbus.read_holding_registers(0, count=1, device_id=42)
                assert response.exception_code == GATEWAY_NO_RESPONSE
        finally:
            await gateway.stop()
            for bus in buses:
                bus.stop()
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
            await pty_sim.stop()
            await tcp_sim.stop()


def test_gateway_arguments_are_checked() -> None:
    bus = Bus(BusSettings("x", TcpLine("127.0.0.1", 1)), [])
    with pytest.raises(ValueError, match="at least one bus"):
        Gateway([], "127.0.0.1", tcp_port=0)
    with pytest.raises(ValueError, match="tcp_port, rtu_port"):
        Gateway([bus], "127.0.0.1")
    with pytest.raises(ValueError, match="at least 1"):
        Gateway([bus], "127.0.0.1", tcp_port=0, max_clients=0)
    with pytest.raises(ValueError, match="idle_timeout"):
        Gateway([bus], "127.0.0.1", tcp_port=0, idle_timeout=0)
    with pytest.raises(ValueError, match="eviction_grace"):
        Gateway([bus], "127.0.0.1", tcp_port=0, eviction_grace=-1)


# --------------------------------------------------------------------------- write policy


async def test_writes_are_refused_unless_the_user_enables_them(tmp_path: Path) -> None:
    async with (
        rig(tmp_path, allow_writes=False) as r,
        client(r.gateway, FramerType.SOCKET) as modbus,
    ):
        before = setpoint(r.sim, 1)
        response = await modbus.write_register(SETPOINT, before + 10, device_id=1)
        assert response.isError() and response.exception_code == 0x01
        response = await modbus.read_holding_registers(SETPOINT, count=1, device_id=1)
        assert response.registers == [before]
        assert setpoint(r.sim, 1) == before


async def test_a_gateway_close_obeys_the_alarm_interlock(tmp_path: Path) -> None:
    close = arcm().commands[CommandName.CLOSE]
    assert close.address is not None
    events: list[BridgeEvent] = []
    async with rig(tmp_path) as r, client(r.gateway, FramerType.SOCKET) as modbus:
        r.bus._emit = events.append
        r.sim.unit(1).set("residual_current", 600)
        await wait_for(lambda: bool(r.bus.alarms.open_alarms("arcm-1")))
        response = await modbus.write_register(close.address, close.value, device_id=1)
        assert response.isError() and response.exception_code == 0x01
        assert CommandName.CLOSE not in r.sim.unit(1).command_log
        refused = [e for e in events if e.type is EventType.COMMAND]
        assert refused and refused[-1].data["reason"] == "alarm_active"
        assert refused[-1].data["who"].startswith("modbus gateway client 127.0.0.1")
        # Gone, reset on the device and acknowledged by a person: the close goes through.
        r.sim.unit(1).set("residual_current", 20)
        await r.bus.command("arcm-1", "reset", who="electrician")
        await wait_for(lambda: not r.bus.alarms.open_alarms("arcm-1")[0].active)
        r.bus.acknowledge(r.bus.alarms.open_alarms("arcm-1")[0].id, "electrician")
        response = await modbus.write_register(close.address, close.value, device_id=1)
        assert not response.isError()
        assert CommandName.CLOSE in r.sim.unit(1).command_log


# --------------------------------------------------------------------------- the allowlist

#: Requests that are not reads, as PDUs (function code first). Each must be answered 0x01
#: by the gateway itself: on a real detector, "force listen only" would silence it.
NOT_READS = {
    "diagnostics: return query data": "08 0000 1234",
    "diagnostics: restart communications": "08 0001 ff00",
    "diagnostics: force listen only": "08 0004 0000",
    "diagnostics: clear counters": "08 000a 0000",
    "diagnostics: bus message count": "08 000b 0000",
    "read exception status": "07",
    "get comm event counter": "0b",
    "get comm event log": "0c",
    "report server id": "11",
    "read file record": "14 07 06 0004 0001 0002",
    "write file record": "15 0d 06 0004 0007 0003 06af 04be 100d",
    "read FIFO queue": "18 04de",
    "encapsulated interface, MEI type 13 (CANopen)": "2b 0d 00 00",
    "unknown function": "5a 00 01",
}
#: The write functions, each well formed, aimed at the writable setpoint register.
WRITES = {
    "write single coil": "05 0001 ff00",
    "write single register": "06 0030 01c2",
    "write multiple coils": "0f 0001 0003 01 05",
    "write multiple registers": "10 0030 0001 02 01c2",
    "mask write register": "16 0030 f0f0 0101",
    "read/write multiple registers": "17 0000 0001 0030 0001 02 01c2",
}


def pdu(text: str) -> bytes:
    return bytes.fromhex(text)


def raw_frame(framer: FramerType, unit: int, payload: bytes, tid: int = 0) -> bytes:
    """A request frame as a client puts it on the wire (RTU: with its CRC)."""
    if framer is FramerType.RTU:
        return FramerRTU(DecodePDU(is_server=False)).encode(payload, unit, 0)
    return mbap(tid, unit, payload)


def exception_size(framer: FramerType) -> int:
    return 5 if framer is FramerType.RTU else 9  # unit, function, code (+ CRC or MBAP)


async def exchange(
    gateway: Gateway,
    framer: FramerType,
    requests: Sequence[tuple[int, bytes]],
    sizes: Sequence[int],
) -> list[ModbusPDU]:
    """Send raw requests ((unit, PDU) each, transaction ids 1, 2, ...) in one TCP segment;
    the decoded answers, which must have the given sizes."""
    frames = [raw_frame(framer, unit, p, tid) for tid, (unit, p) in enumerate(requests, start=1)]
    decoder = DecodePDU(is_server=False)
    decode = FramerRTU(decoder) if framer is FramerType.RTU else FramerSocket(decoder)
    reader, writer = await asyncio.open_connection("127.0.0.1", port_of(gateway, framer))
    try:
        writer.write(b"".join(frames))
        await writer.drain()
        return await read_frames(reader, decode, sizes)
    finally:
        writer.close()


@dataclass
class LineTraffic:
    """Everything that would show a request reaching the line or the units."""

    transactions: int
    responses: int
    registers: list[list[int]]
    commands: list[list[CommandName]]

    @classmethod
    def of(cls, r: Rig) -> LineTraffic:
        units = r.sim.units
        return cls(
            r.bus.stats.transactions,
            r.sim.counters.responses,
            [u.peek(0, 0x48) for u in units],
            [list(u.command_log) for u in units],
        )


def refusal_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.WARNING and "refused function" in record.getMessage()
    ]


@FRAMERS
async def test_the_read_only_gateway_answers_every_other_function_0x01_and_sends_nothing(
    tmp_path: Path, framer: FramerType, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="electrical_safety_bridge.gateway.server")
    recorded: list[BridgeEvent] = []
    # The bus polls nothing: whatever the simulated units see would come from the gateway.
    async with rig(tmp_path, bus_units=(), allow_writes=False, record=recorded.append) as r:
        before = LineTraffic.of(r)
        requests = [(1, pdu(p)) for p in NOT_READS.values()]
        requests.append((0, pdu(NOT_READS["diagnostics: force listen only"])))  # broadcast
        requests += [(1, pdu(p)) for p in WRITES.values()]
        answers = await exchange(
            r.gateway, framer, requests, [exception_size(framer)] * len(requests)
        )

        for (unit, request), answer in zip(requests, answers, strict=True):
            assert isinstance(answer, ExceptionResponse), request.hex()
            assert (answer.function_code, answer.exception_code) == (request[0] | 0x80, 0x01)
            assert answer.dev_id == unit
        if framer is FramerType.SOCKET:
            assert [a.transaction_id for a in answers] == list(range(1, len(requests) + 1))
        assert r.gated.waiting == [], "nothing reached the bus's transport"
        assert LineTraffic.of(r) == before, "nothing reached the line or changed a unit"

        stats = r.gateway.stats
        assert stats.functions_refused == len(NOT_READS) + 1
        assert stats.writes_refused == len(WRITES)
        assert stats.rejected == len(requests) == stats.answered == stats.requests
        assert stats.forwarded == 0
        # Logged at warning level once per client and function: the six FC 08 requests
        # (five sub-functions, one of them broadcast too) make one line.
        warnings = refusal_warnings(caplog)
        assert len(warnings) == len(NOT_READS) - 4 + len(WRITES)
        assert sum("function 08 (diagnostics)" in m for m in warnings) == 1
        assert sum("function 43/13" in m for m in warnings) == 1
        assert all("127.0.0.1" in m for m in warnings)
        assert sum("allow_writes" in m for m in warnings) == len(WRITES)
        # And recorded in the event log, as often as logged: refused commands with who asked.
        assert len(recorded) == len(warnings)
        assert all(e.type is EventType.COMMAND for e in recorded)
        assert {e.data["outcome"] for e in recorded} == {"refused"}
        assert {e.data["reason"] for e in recorded} == {"function_not_allowed", "writes_disabled"}
        assert all(e.data["who"] == "modbus gateway client 127.0.0.1" for e in recorded)

        # Reads still pass, and the refusals are not logged again.
        caplog.clear()
        async with client(r.gateway, framer) as modbus:
            response = await modbus.read_holding_registers(0, count=2, device_id=1)
            assert response.registers == r.sim.unit(1).peek(0, 2)
        await exchange(r.gateway, framer, requests[:1], [exception_size(framer)])
        assert refusal_warnings(caplog) == []
        assert any("refused function" in r.getMessage() for r in caplog.records)  # debug


@FRAMERS
async def test_with_writes_allowed_only_the_write_functions_join_the_reads(
    tmp_path: Path, framer: FramerType
) -> None:
    async with rig(tmp_path, bus_units=(), allow_writes=True) as r:
        before = LineTraffic.of(r)
        refused = [
            NOT_READS[name]
            for name in (
                "diagnostics: force listen only",
                "diagnostics: restart communications",
                "write file record",
                "encapsulated interface, MEI type 13 (CANopen)",
                "unknown function",
            )
        ]
        answers = await exchange(
            r.gateway,
            framer,
            [(1, pdu(p)) for p in refused],
            [exception_size(framer)] * len(refused),
        )
        assert [a.exception_code for a in answers] == [0x01] * len(refused)
        assert r.gated.waiting == []
        assert LineTraffic.of(r) == before
        assert r.gateway.stats.functions_refused == len(refused)
        assert r.gateway.stats.writes_refused == 0

        # A write does pass, and reaches the unit.
        async with client(r.gateway, framer) as modbus:
            response = await modbus.write_register(SETPOINT, 450, device_id=1)
            assert not response.isError()
        assert setpoint(r.sim, 1) == 450
        assert [sent[0] for sent in r.gated.sent] == [6]


@FRAMERS
async def test_a_request_pymodbus_would_change_on_the_way_is_answered_0x03(
    tmp_path: Path, framer: FramerType
) -> None:
    # pymodbus decodes these, but would put something else on the line: a coil value
    # that is neither ON nor OFF becomes ON, a byte count that disagrees with the
    # quantity is recounted.
    altered = [
        "05 0001 1234",  # write single coil: 0x1234 is not 0xFF00 or 0x0000
        "0f 0001 0003 02 05 00",  # 3 coils in 2 bytes
        "10 0030 0001 04 01c2 0000",  # 1 register in 4 bytes
        "03 0000 0000",  # a read of 0 registers
    ]
    async with rig(tmp_path, bus_units=(), allow_writes=True) as r:
        before = LineTraffic.of(r)
        answers = await exchange(
            r.gateway,
            framer,
            [(1, pdu(p)) for p in altered],
            [exception_size(framer)] * len(altered),
        )
        assert [a.exception_code for a in answers] == [0x03] * len(altered)
        assert r.gated.waiting == []
        assert LineTraffic.of(r) == before


async def test_a_read_write_to_the_close_register_obeys_the_interlock(tmp_path: Path) -> None:
    # FC 23 keeps its write in write_address: the interlock must look there, not at the
    # read address.
    close = arcm().commands[CommandName.CLOSE]
    assert close.address is not None
    async with rig(tmp_path) as r, client(r.gateway, FramerType.SOCKET) as modbus:
        r.sim.unit(1).set("residual_current", 600)
        await wait_for(lambda: bool(r.bus.alarms.open_alarms("arcm-1")))
        response = await modbus.readwrite_registers(
            read_address=0,
            read_count=1,
            write_address=close.address,
            values=[close.value],
            device_id=1,
        )
        assert response.isError() and response.exception_code == 0x01
        assert CommandName.CLOSE not in r.sim.unit(1).command_log
        refused = [e for e in r.events if e.type is EventType.COMMAND]
        assert refused and refused[-1].data["reason"] == "alarm_active"


# --------------------------------------------------------------------------- the line stays


#: What the simulated units answer to read device identification (basic objects).
IDENTITY = {0: b"Electrical Safety Project", 1: b"SIM-ARCM", 2: b"1.0"}


@pytest.fixture
def identity(monkeypatch: pytest.MonkeyPatch) -> dict[int, bytes]:
    """pymodbus servers answer FC 43/14 from one process-wide control block: fill it in."""
    objects = ModbusControlBlock().Identity.stat_data  # type: ignore[no-untyped-call]
    for object_id, value in IDENTITY.items():
        monkeypatch.setitem(objects, object_id, value.decode())
    return IDENTITY


@FRAMERS
async def test_function_43_in_any_shape_leaves_the_line_up(
    tmp_path: Path, framer: FramerType, identity: dict[int, bytes]
) -> None:
    # The bus polls its units meanwhile, so a line it lost would show.
    async with rig(tmp_path) as r:
        shapes = [
            ("2b 0d 00 00", 0x01),  # MEI type 13, CANopen: the probe's 4-byte request
            ("2b 0d", 0x01),
            ("2b", 0x03),  # no MEI type at all
            ("2b 0e 07 00", 0x03),  # read device identification code 7 does not exist
        ]
        if framer is FramerType.SOCKET:
            # MBAP says where these end; an RTU frame of FC 43/14 is 7 bytes by definition.
            shapes += [("2b 0e", 0x03), ("2b 0e 01", 0x03), ("2b 0e 01 00 ff", 0x03)]
        for shape, code in shapes:
            (answer,) = await exchange(
                r.gateway, framer, [(1, pdu(shape))], [exception_size(framer)]
            )
            assert (answer.function_code, answer.exception_code) == (0xAB, code), shape
        assert not any(sent[0] == 0x2B for sent in r.gated.sent)

        # Read device identification itself passes, and comes back as the unit sent it.
        async with client(r.gateway, framer) as modbus:
            answer = await modbus.read_device_information(read_code=1, device_id=1)
            assert isinstance(answer, ReadDeviceInformationResponse)
            assert answer.information == identity
            assert answer.number_of_objects == len(identity)
            response = await modbus.read_holding_registers(0, count=2, device_id=2)
            assert response.registers == r.sim.unit(2).peek(0, 2)
        assert r.gateway.stats.forwarded == 2
        assert not r.bus_went_down()
        r.sim.unit(1).set("residual_current", 61)
        await wait_for(lambda: r.bus.snapshot("arcm-1")["values"].get("residual_current") == 61)
        assert not r.bus_went_down()


def mei_13() -> ModbusPDU:
    """The FC 43 / MEI type 13 request as pymodbus decodes it: it encodes to a bare 0x2B."""
    request = DecodePDU(is_server=True).decode(pdu("2b 0d 00 00"))
    assert request is not None
    request.dev_id = 1
    return request


async def test_a_request_pymodbus_cannot_send_fails_alone_and_the_line_stays(
    tmp_path: Path,
) -> None:
    # Past the gateway's allowlist, as if it had let one through: the bus answers it with
    # an error for that request only.
    async with rig(tmp_path, bus_units=(1,), dead=()) as r:
        responses = r.sim.counters.responses
        with pytest.raises(ValueError, match="cannot send"):
            await r.bus.forward(mei_13())
        assert r.bus.up is True
        async with client(r.gateway, FramerType.RTU) as modbus:
            response = await modbus.read_holding_registers(0, count=1, device_id=1)
            assert response.registers == r.sim.unit(1).peek(0, 1)
        assert r.sim.counters.responses > responses  # the line carried the read
        assert not r.bus_went_down()


@pytest.mark.parametrize("rtu", [False, True], ids=["modbus-tcp", "rtu-over-tcp"])
async def test_the_transport_refuses_a_request_it_cannot_send_and_keeps_the_line(
    rtu: bool,
) -> None:
    # On a Modbus TCP line, pymodbus sent this request as a bare 0x2B; the device's answer
    # (0x80) could not be decoded, and pymodbus closed the line from inside its protocol.
    sim = SimulatedBus([SimulatedUnit(arcm(), 1)])
    served = await sim.serve_tcp("127.0.0.1", 0, rtu=rtu)
    assert served.port is not None
    transport = ModbusTransport(TcpLine("127.0.0.1", served.port, rtu=rtu))
    try:
        await transport.open()
        with pytest.raises(ValueError, match="cannot send"):
            await transport.execute(mei_13(), 1.0)
        assert transport.connected
        assert sim.counters.responses == 0, "nothing was sent"
        sim.unit(1).set("residual_current", 42)
        assert await transport.read(1, 3, 0, 1, 1.0) == [42]
        assert transport.connected
    finally:
        transport.close()
        await sim.stop()


# --------------------------------------------------------------------------- connections


@pytest.mark.parametrize(
    "header",
    [
        "0002 0001 0006 01",  # protocol id 1
        "0002 0000 0000 01",  # length 0: not even a unit id
        "0002 0000 0001 01",  # length 1: a unit id but no function code
        "0002 0000 00ff 01",  # length 255: more than a 253-byte PDU
        "0002 0000 ffff 01",
    ],
)
async def test_a_modbus_tcp_frame_that_cannot_be_framed_closes_its_connection(
    tmp_path: Path, header: str
) -> None:
    async with rig(tmp_path) as r, client(r.gateway, FramerType.SOCKET) as other:
        reader, writer = await asyncio.open_connection("127.0.0.1", r.gateway.tcp_port)
        try:
            # A good read, then the bad header in the same segment: the read is answered,
            # then the connection is closed instead of going silent.
            writer.write(mbap(1, 1, pdu("03 0000 0001")) + pdu(header) + pdu("03 0000 0001"))
            await writer.drain()
            decode = FramerSocket(DecodePDU(is_server=False))
            (answer,) = await read_frames(reader, decode, [9 + 2])
            assert (answer.transaction_id, answer.registers) == (1, r.sim.unit(1).peek(0, 1))
            assert await asyncio.wait_for(reader.read(), timeout=5) == b""
        finally:
            writer.close()
        await wait_for(lambda: r.gateway.clients == 1)
        assert r.gateway.stats.framing_errors == 1
        response = await other.read_holding_registers(0, count=1, device_id=2)
        assert response.registers == r.sim.unit(2).peek(0, 1)


async def open_idle_peers(gateway: Gateway, count: int) -> list[asyncio.StreamWriter]:
    """Connections that never send anything, on both listeners in turn."""
    writers = []
    for n in range(count):
        framer = FramerType.SOCKET if n % 2 else FramerType.RTU
        _, writer = await asyncio.open_connection("127.0.0.1", port_of(gateway, framer))
        writers.append(writer)
    return writers


async def answers_a_read(gateway: Gateway, framer: FramerType) -> bool:
    """Whether a new client is let in and answered (a refused one is closed at once)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port_of(gateway, framer))
    try:
        writer.write(raw_frame(framer, 1, pdu("03 0000 0001"), tid=7))
        await writer.drain()
        size = 5 + 2 if framer is FramerType.RTU else 9 + 2
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            return len(await asyncio.wait_for(reader.readexactly(size), timeout=5)) == size
        return False
    finally:
        writer.close()


async def test_a_hundred_idle_peers_cannot_lock_a_new_client_out(tmp_path: Path) -> None:
    async with rig(tmp_path, eviction_grace=0.2) as r:
        peers = await open_idle_peers(r.gateway, 100)
        try:
            assert r.gateway.clients <= r.gateway.max_clients == 16
            # Once the idlest has been idle for the grace, a newcomer takes its slot.
            for framer in (FramerType.SOCKET, FramerType.RTU):
                await wait_for(functools.partial(answers_a_read, r.gateway, framer))
            stats = r.gateway.stats
            assert stats.evicted >= 2
            assert stats.accepted + stats.refused >= 102
            assert r.gateway.clients <= 16
        finally:
            for writer in peers:
                writer.close()
        await wait_for(lambda: r.gateway.clients == 0)


async def test_a_connection_waiting_for_its_answer_is_never_evicted(tmp_path: Path) -> None:
    async with rig(tmp_path, bus_units=(), max_clients=2, eviction_grace=0) as r:
        r.gated.gate.clear()
        async with client(r.gateway, FramerType.SOCKET) as busy:
            held = asyncio.ensure_future(busy.read_holding_registers(0, count=1, device_id=1))
            await wait_for(lambda: len(r.gated.waiting) == 1)
            idle_reader, idle_writer = await asyncio.open_connection(
                "127.0.0.1", r.gateway.rtu_port
            )
            await wait_for(lambda: r.gateway.clients == 2)
            # Full: the newcomer replaces the idle connection, never the busy one.
            async with client(r.gateway, FramerType.RTU) as newcomer:
                assert await asyncio.wait_for(idle_reader.read(), timeout=5) == b""
                assert r.gateway.stats.evicted == 1
                assert r.gateway.clients == 2
                r.gated.gate.set()
                assert (await held).registers == r.sim.unit(1).peek(0, 1)
                response = await newcomer.read_holding_registers(0, count=1, device_id=2)
                assert response.registers == r.sim.unit(2).peek(0, 1)
            idle_writer.close()
        assert r.gateway.stats.dropped == 0
        assert r.gateway.stats.refused == 0


async def test_idle_connections_are_closed_but_a_slow_answer_is_waited_for(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path, bus_units=(), idle_timeout=0.3) as r:
        # A request held on the line for longer than the idle timeout.
        r.gated.gate.clear()
        busy_reader, busy_writer = await asyncio.open_connection("127.0.0.1", r.gateway.tcp_port)
        busy_writer.write(mbap(5, 1, pdu("03 0000 0001")))
        await wait_for(lambda: len(r.gated.waiting) == 1)
        # Peers that send nothing, or half a header: neither keeps a connection open.
        idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", r.gateway.rtu_port)
        half_reader, half_writer = await asyncio.open_connection("127.0.0.1", r.gateway.tcp_port)
        half_writer.write(pdu("0001 0000"))
        for reader in (idle_reader, half_reader):
            assert await asyncio.wait_for(reader.read(), timeout=5) == b""
        assert r.gateway.stats.idle_closed == 2
        # The busy connection connected first, so it has gone longer without sending
        # anything, yet its answer is still awaited.
        assert r.gateway.clients == 1
        r.gated.gate.set()
        decode = FramerSocket(DecodePDU(is_server=False))
        (answer,) = await read_frames(busy_reader, decode, [9 + 2])
        assert answer.transaction_id == 5
        # Then it is idle too, and closed in its turn.
        assert await asyncio.wait_for(busy_reader.read(), timeout=5) == b""
        assert r.gateway.stats.idle_closed == 3
        for writer in (busy_writer, idle_writer, half_writer):
            writer.close()


async def test_a_client_that_takes_no_answers_is_closed_after_the_idle_timeout(
    tmp_path: Path,
) -> None:
    # With an answer pending a connection is never idle, and never evicted: without a
    # bound on writing, a client that stops reading would hold its slot for good.
    async with rig(tmp_path, bus_units=(), idle_timeout=0.5) as r:
        loop = asyncio.get_running_loop()
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
            sock.setblocking(False)
            await loop.sock_connect(sock, ("127.0.0.1", r.gateway.tcp_port))
            await wait_for(lambda: r.gateway.clients == 1)
            # Small buffers on the gateway's side too, so that writing blocks after a
            # few hundred answers rather than megabytes of them.
            (connection,) = r.gateway._connections.values()
            connection.writer.transport.set_write_buffer_limits(high=0)
            server_socket = connection.writer.get_extra_info("socket")
            server_socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1)

            async def send_and_never_read() -> None:
                request = mbap(1, 1, pdu("03 0000 000b"))
                while True:
                    await loop.sock_sendall(sock, request * 10)

            sender = asyncio.create_task(send_and_never_read())
            try:
                await wait_for(lambda: r.gateway.clients == 0)
            finally:
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError, OSError):
                    await sender
        assert r.gateway.stats.idle_closed == 1
        assert r.gateway.stats.answered > 0


async def test_a_client_that_hammers_does_not_hold_up_another(tmp_path: Path) -> None:
    pipelined_reads = 200
    async with rig(tmp_path, bus_units=()) as r, client(r.gateway, FramerType.RTU) as polite:
        reader, writer = await asyncio.open_connection("127.0.0.1", r.gateway.tcp_port)
        try:
            writer.write(
                b"".join(mbap(n, 1, pdu("03 0000 0001")) for n in range(1, pipelined_reads + 1))
            )
            await writer.drain()
            await wait_for(lambda: len(r.gated.sent) >= 2)
            r.sim.unit(2).set("residual_current", 22)
            response = await polite.read_holding_registers(0, count=1, device_id=2)
            assert response.registers == [22]
            hammered = sum(1 for sent in r.gated.sent if sent[1] == 1)
            assert hammered < pipelined_reads, "answered while the other still had work queued"
            # The hammering client gets every answer, in order.
            decode = FramerSocket(DecodePDU(is_server=False))
            answers = await read_frames(reader, decode, [9 + 2] * pipelined_reads)
            assert [a.transaction_id for a in answers] == list(range(1, pipelined_reads + 1))
        finally:
            writer.close()


# --------------------------------------------------------------------------- configuration


def bridge_config(tmp_path: Path, **gateway: Any) -> dict[str, Any]:
    return {
        "data_dir": str(tmp_path),
        "buses": [
            {
                "id": "panel",
                "tcp": "127.0.0.1:502",
                "devices": [{"id": "rcm", "unit": 1, "profile": "SIM-ARCM"}],
            }
        ],
        "gateway": {"tcp_port": 5020, **gateway},
    }


def test_the_idle_timeout_is_configured_and_checked(tmp_path: Path) -> None:
    config = parse_config(bridge_config(tmp_path), "bridge.yaml")
    assert config.gateway.idle_timeout == DEFAULT_IDLE_TIMEOUT
    config = parse_config(bridge_config(tmp_path, idle_timeout=30), "bridge.yaml")
    assert config.gateway.idle_timeout == 30.0
    for wrong in (0, -5, "soon", float("inf")):
        with pytest.raises(ConfigError, match=r"gateway\.idle_timeout"):
            parse_config(bridge_config(tmp_path, idle_timeout=wrong), "bridge.yaml")


async def test_a_gateway_close_is_refused_while_the_unit_is_locked_out(tmp_path: Path) -> None:
    close = arcm().commands[CommandName.CLOSE]
    trip = arcm().commands[CommandName.TRIP]
    assert close.address is not None and trip.address is not None
    events: list[BridgeEvent] = []
    lockouts: dict[str, Lockout] = {}
    async with rig(tmp_path) as r, client(r.gateway, FramerType.SOCKET) as modbus:
        r.bus._emit = events.append
        r.bus._lockout = lockouts.get
        lockouts["arcm-1"] = Lockout(
            who="electrician", source="api", why="rewiring", since=time.time(), until=None
        )
        # No alarm at all: only the lock-out stands in the way.
        response = await modbus.write_register(close.address, close.value, device_id=1)
        assert response.isError() and response.exception_code == 0x01
        assert CommandName.CLOSE not in r.sim.unit(1).command_log
        refused = [e for e in events if e.type is EventType.COMMAND]
        assert refused and refused[-1].data["reason"] == "locked_out"
        # Trip still works while locked out; so do reads.
        response = await modbus.write_register(trip.address, trip.value, device_id=1)
        assert not response.isError()
        assert CommandName.TRIP in r.sim.unit(1).command_log
        span = r.sim.unit(1).spec("residual_current_alarm_setpoint").span
        read = await modbus.read_holding_registers(span.start, count=len(span), device_id=1)
        assert not read.isError()
        # Lifted: the close goes through.
        del lockouts["arcm-1"]
        response = await modbus.write_register(close.address, close.value, device_id=1)
        assert not response.isError()
        assert CommandName.CLOSE in r.sim.unit(1).command_log
