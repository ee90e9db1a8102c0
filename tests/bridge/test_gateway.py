"""The Modbus gateway against real pymodbus clients, with the bridge's Bus running as in
production: polling simulated units over a pseudo-terminal (serial RTU) while other masters
reach the same line through the gateway's Modbus TCP and RTU-over-TCP listeners."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.framer import FramerRTU, FramerSocket, FramerType
from pymodbus.pdu import DecodePDU, ModbusPDU
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersRequest,
    WriteSingleRegisterRequest,
)

from electrical_safety_bridge.bus import Bus, BusSettings, DeviceSpec, PollIntervals
from electrical_safety_bridge.events import EventType
from electrical_safety_bridge.gateway import Gateway
from electrical_safety_bridge.profile import CommandName, Profile, find_profile
from electrical_safety_bridge.simulator import PtyLink, SimulatedBus, SimulatedUnit
from electrical_safety_bridge.transport import ModbusTransport, SerialLine, TcpLine

from .conftest import wait_for

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


@contextlib.asynccontextmanager
async def rig(
    tmp_path: Path,
    *,
    sim_units: Sequence[int] = (1, 2, 3, 9),
    bus_units: Sequence[int] = (1, 2, 9),
    dead: Sequence[int] = (9,),
    allow_writes: bool = True,
    **gateway_options: int,
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
        bus = Bus(settings, specs, transport=gated)
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
            yield Rig(sim, link, bus, gateway, gated)
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


def setpoint(sim: SimulatedBus, unit: int) -> object:
    return sim.unit(unit).get("residual_current_alarm_setpoint").value


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
        held = asyncio.create_task(stays.read_holding_registers(0, count=1, device_id=1))
        await wait_for(lambda: len(r.gated.waiting) == 1)

        async with client(r.gateway, FramerType.RTU) as leaves:
            write = asyncio.create_task(leaves.write_register(SETPOINT, 777, device_id=2))
            await wait_for(lambda: len(r.bus._commands) == 1)  # queued behind the held read
        # The client is gone with its write still queued (its own wait for the answer is
        # abandoned too: pymodbus would otherwise sit out its timeout).
        write.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await write
        await wait_for(lambda: r.gateway.clients == 1)
        assert r.gateway.stats.dropped == 1
        assert len(r.bus._commands) == 1  # the job stays until its turn, then is skipped

        r.gated.gate.set()
        assert not (await held).isError()
        await wait_for(lambda: not r.bus._commands)
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
    caplog.set_level(logging.WARNING, logger="electrical_safety_bridge.gateway")
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
    events = []
    async with rig(tmp_path) as r, client(r.gateway, FramerType.SOCKET) as modbus:
        r.bus._emit = events.append
        r.sim.unit(1).set("residual_current", 600)
        await wait_for(lambda: r.bus.alarms.open_alarms("arcm-1"))
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
