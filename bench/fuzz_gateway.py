"""Fuzz the Modbus gateway: random and mutated frames over Modbus TCP and RTU over TCP.

A real :class:`Gateway` stands in front of a real :class:`Bus` polling simulated SIM-ARCM
units (1 and 2 answer, 9 is dead) over Modbus TCP. Between the bus and the simulator a wire
tap reads every request that reaches the line. Two gateways share the bus: a read-only one
(the default) and one with ``allow_writes``; each has both listeners. Every case is sent on a
fresh connection to one of the four listeners:

* valid requests of every function the gateway knows (reads, writes, device identification,
  diagnostics, file records, unknown codes), to units that answer, a dead one, one the bridge
  does not poll, and broadcast;
* the same, mutated: truncated, bits flipped, a wrong MBAP length or protocol id, a bad or
  recomputed CRC, an unknown function code, counts of 0 or past the Modbus limits, byte
  counts that disagree, bytes appended, two frames in one write;
* random bytes.

The oracle: every request the client's framing delimits is answered within a bound, in
order, with the client's transaction and unit id, as the function's own answer or an
exception the gateway documents (01, 02, 03, 04, 0A, 0B); a Modbus TCP stream that cannot be
framed is closed; an RTU answer carries a valid CRC; a write through the read-only gateway
is answered 01; after each case a valid read on a new connection still answers; and the wire
tap never sees a write while only the read-only gateway was used.

Run it with ``.venv-bridge/bin/python bench/fuzz_gateway.py --cases 20000``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import struct
import sys
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, TextIO

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._fuzz import (
    FuzzConfig,
    Report,
    flip_bits,
    fuzz_main,
    random_bytes,
    truncate,
    wait_until,
)
from electrical_safety_bridge.bus.bus_settings import BusSettings, DeviceSpec, PollIntervals
from electrical_safety_bridge.bus.scheduler import Bus
from electrical_safety_bridge.gateway.server import Gateway
from electrical_safety_bridge.modbus.framing import (
    Framing,
    RequestCodec,
    crc_ok,
    shortest_crc_frame,
)
from electrical_safety_bridge.modbus.lines import TcpLine
from electrical_safety_bridge.profiles.loader import find_profile
from electrical_safety_bridge.safety.commands import WRITE_FUNCTIONS
from electrical_safety_bridge.simulator import SimulatedBus, SimulatedUnit

#: How long one answer may take: a forwarded request waits behind the bus's own polls and,
#: for a silent unit, its timeout; a loaded CI machine gets a wide margin.
ANSWER_BOUND_S: Final = 10.0
#: Exception codes a gateway client may see: the device's own (01-04) and the gateway's.
EXCEPTIONS: Final = frozenset({0x01, 0x02, 0x03, 0x04, 0x0A, 0x0B})
ANSWERING_UNITS: Final = (1, 2)
DEAD_UNIT: Final = 9
UNPOLLED_UNIT: Final = 3  # on the simulated line but not the bridge's: silence for the bus
SETPOINT: Final = 0x0030  # SIM-ARCM residual_current_alarm_setpoint, writable
PROBE_PDU: Final = bytes([3]) + struct.pack(">HH", 0, 2)  # read two holding registers


# --------------------------------------------------------------------------- frames


def crc16(data: bytes) -> bytes:
    """The Modbus RTU CRC of ``data``, low byte first as on the wire."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return struct.pack("<H", crc)


def rtu(unit: int, pdu: bytes) -> bytes:
    """An RTU frame: unit id, PDU, CRC."""
    body = bytes([unit]) + pdu
    return body + crc16(body)


def mbap(transaction: int, unit: int, pdu: bytes, *, length: int | None = None) -> bytes:
    """A Modbus TCP frame; ``length`` overrides the MBAP length field."""
    size = len(pdu) + 1 if length is None else length
    return struct.pack(">HHHB", transaction, 0, size & 0xFFFF, unit) + pdu


def _address(rng: random.Random) -> int:
    return rng.choice((0, 1, 5, 9, SETPOINT, 0x0031, 0x0040, 0x00FF, 0xFFFF, rng.randrange(65536)))


def valid_pdu(rng: random.Random) -> bytes:
    """A well-formed request PDU of one of the functions a client may send."""
    if rng.random() < 0.3:  # registers the unit has: the device's own answer
        return struct.pack(">BHH", 3, rng.randrange(6), rng.randint(1, 4))
    function = rng.choice((1, 2, 3, 3, 3, 4, 4, 5, 6, 6, 15, 16, 16, 22, 23, 43, 7, 8, 11, 17, 20))
    address = _address(rng)
    if function in (1, 2):
        return struct.pack(">BHH", function, address, rng.randint(1, 2000))
    if function in (3, 4):
        return struct.pack(">BHH", function, address, rng.randint(1, 125))
    if function == 5:
        return struct.pack(">BHH", 5, address, rng.choice((0xFF00, 0x0000)))
    if function == 6:
        return struct.pack(">BHH", 6, address, rng.randrange(65536))
    if function == 15:
        count = rng.randint(1, 1968)
        data = rng.randbytes((count + 7) // 8)
        return struct.pack(">BHHB", 15, address, count, len(data)) + data
    if function == 16:
        count = rng.randint(1, 123)
        return struct.pack(">BHHB", 16, address, count, 2 * count) + rng.randbytes(2 * count)
    if function == 22:
        return struct.pack(">BHHH", 22, address, rng.randrange(65536), rng.randrange(65536))
    if function == 23:
        written = rng.randint(1, 121)
        return struct.pack(
            ">BHHHHB", 23, address, rng.randint(1, 125), address, written, 2 * written
        ) + rng.randbytes(2 * written)
    if function == 43:
        return bytes([43, 14, rng.randint(1, 4), rng.randrange(8)])
    if function == 8:
        return struct.pack(">BHH", 8, rng.choice((0, 1, 4, 10)), 0)
    if function == 20:
        return bytes([20, 7, 6]) + struct.pack(">HHH", 1, 0, 1)
    return bytes([function])


def mutate_pdu(rng: random.Random, pdu: bytes) -> bytes:
    """A PDU changed in one way a broken or hostile client changes one."""
    choice = rng.randrange(8)
    if choice == 0:  # an unknown or refused function code
        return (
            bytes([rng.choice((0, 9, 13, 40, 41, 42, 65, 90, 100, 127, 128, 129, 255))]) + pdu[1:]
        )
    if choice == 1 and len(pdu) >= 5:  # a count of 0, just past the limit, or the largest
        count = rng.choice((0, 126, 2001, 1969, 124, 0x7FFF, 0xFFFF))
        return pdu[:3] + struct.pack(">H", count) + pdu[5:]
    if choice == 2 and len(pdu) >= 6 and pdu[0] in (15, 16):  # a byte count that disagrees
        return pdu[:5] + bytes([rng.randrange(256)]) + pdu[6:]
    if choice == 3:
        return flip_bits(rng, pdu, rng.randint(1, 3))
    if choice == 4:
        return truncate(rng, pdu) or pdu[:1]
    if choice == 5:
        return pdu + random_bytes(rng, 1, 8)
    if choice == 6 and pdu[0] == 43:  # another MEI type, or none
        return (
            bytes([43]) + bytes([rng.choice((13, 0, 15, 255))]) + pdu[2:]
            if rng.random() < 0.7
            else b"\x2b"
        )
    return pdu[:1] + rng.randbytes(rng.randint(0, 12))


def _unit(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.75:
        return rng.choice(ANSWERING_UNITS)
    if roll < 0.83:
        return DEAD_UNIT
    if roll < 0.9:
        return 0
    if roll < 0.97:
        return UNPOLLED_UNIT
    return rng.randrange(256)


@dataclass(slots=True)
class Case:
    """Bytes to send, and what the client's framing says must come back."""

    data: bytes
    #: (transaction id, unit, function) of each request the framing delimits, in order.
    requests: list[tuple[int, int, int]] = field(default_factory=list)
    #: Modbus TCP: the stream cannot be framed after those requests, so it is closed.
    closes: bool = False


def mbap_requests(data: bytes) -> tuple[list[tuple[int, int, int]], bool]:
    """What a Modbus TCP server must answer in ``data``, and whether it must close.

    The reference framing: a 7-byte header whose protocol id is 0 and whose length is
    2..254, then the rest of the length; anything else cannot be framed.
    """
    requests: list[tuple[int, int, int]] = []
    while len(data) >= 7:
        transaction, protocol, length = struct.unpack(">HHH", data[:6])
        if protocol != 0 or not 2 <= length <= 254:
            return requests, True
        if len(data) < 6 + length:
            break
        requests.append((transaction, data[6], data[7]))
        data = data[6 + length :]
    return requests, False


def mbap_case(rng: random.Random) -> Case:
    """A Modbus TCP case: one or two frames, valid or mutated, or random bytes."""
    roll = rng.random()
    if roll < 0.08:
        data = random_bytes(rng, 1, 300)
    else:
        frames = []
        for _ in range(1 if rng.random() < 0.85 else rng.randint(2, 4)):
            transaction = rng.randrange(65536)
            unit = _unit(rng)
            pdu = valid_pdu(rng)
            if rng.random() < 0.6:
                pdu = mutate_pdu(rng, pdu)
            frame = mbap(transaction, unit, pdu)
            kind = rng.random()
            if kind < 0.06:
                frame = mbap(transaction, unit, pdu, length=rng.choice((0, 1, 255, 256, 65535)))
            elif kind < 0.12:
                frame = mbap(
                    transaction, unit, pdu, length=len(pdu) + 1 + rng.choice((-2, -1, 1, 3))
                )
            elif kind < 0.15:
                frame = frame[:2] + struct.pack(">H", rng.randint(1, 65535)) + frame[4:]
            elif kind < 0.2:
                frame = truncate(rng, frame)
            elif kind < 0.24:
                frame = flip_bits(rng, frame, 1)
            frames.append(frame)
        data = b"".join(frames)
    requests, closes = mbap_requests(data)
    return Case(data, requests, closes)


def rtu_case(rng: random.Random, codec: RequestCodec) -> Case:
    """An RTU-over-TCP case. Only a single whole frame with a valid CRC, of a size the
    gateway can tell, must be answered: RTU has no length field, so a broken frame may
    leave the gateway waiting for bytes that never come, as on a serial line."""
    roll = rng.random()
    if roll < 0.08:
        return Case(random_bytes(rng, 1, 300))
    unit = _unit(rng)
    pdu = valid_pdu(rng)
    mutated = rng.random() < 0.6
    if mutated:
        pdu = mutate_pdu(rng, pdu)
    frame = rtu(unit, pdu)
    kind = rng.random()
    if kind < 0.1:
        frame = frame[:-2] + bytes([frame[-2] ^ 0xFF, frame[-1]])  # a bad CRC
    elif kind < 0.17:
        frame = truncate(rng, frame)
    elif kind < 0.22:
        frame = flip_bits(rng, frame, 1)
    elif kind < 0.27:
        frame = random_bytes(rng, 1, 12) + frame  # garbage first
    elif kind < 0.3:
        frame = frame + rtu(_unit(rng), valid_pdu(rng))
    case = Case(frame)
    if len(frame) >= 4 and crc_ok(frame) and _rtu_answered(codec, frame):
        case.requests.append((0, frame[0], frame[1]))
    return case


def _rtu_answered(codec: RequestCodec, frame: bytes) -> bool:
    """Whether the gateway must answer this one frame: a function it sizes, sized as long
    as the frame; or one it does not, whose shortest valid CRC ends the frame."""
    size = codec.rtu_size(frame)
    if size is not None and (frame[1] in (1, 2, 3, 4, 43) or frame[1] in WRITE_FUNCTIONS):
        # 0: the frame is too short for pymodbus to tell its size, so the gateway waits
        # for the rest (a 4-byte FC 16 frame is the start of a longer one, as on a line).
        return size == len(frame)
    return shortest_crc_frame(frame, 256) == len(frame)


# --------------------------------------------------------------------------- the rig


class WireTap:
    """A TCP hop between the bus and the simulator that reads each Modbus TCP request."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.functions: Counter[int] = Counter()
        self.writes: list[bytes] = []
        self.server: asyncio.Server | None = None
        self.port = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        down = asyncio.create_task(self._pipe(up_reader, writer, None))
        up = asyncio.create_task(self._pipe(reader, up_writer, bytearray()))
        self._tasks |= {down, up}
        try:
            await asyncio.wait({down, up}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (down, up):
                task.cancel()
                self._tasks.discard(task)
            writer.close()
            up_writer.close()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seen: bytearray | None
    ) -> None:
        while data := await reader.read(4096):
            if seen is not None:
                seen += data
                while len(seen) >= 8:
                    length = int.from_bytes(seen[4:6], "big")
                    if len(seen) < 6 + length:
                        break
                    frame = bytes(seen[: 6 + length])
                    del seen[: 6 + length]
                    self.functions[frame[7]] += 1
                    if frame[7] in WRITE_FUNCTIONS:
                        self.writes.append(frame)
            writer.write(data)
            await writer.drain()


@dataclass(slots=True)
class Rig:
    sim: SimulatedBus
    tap: WireTap
    bus: Bus
    read_only: Gateway
    writable: Gateway


@contextlib.asynccontextmanager
async def running_rig() -> AsyncIterator[Rig]:
    """The simulated line, the tap, a running bus and both gateways, started and stopped."""
    profile = find_profile("SIM-ARCM")
    sim = SimulatedBus(
        [SimulatedUnit(profile, u) for u in (*ANSWERING_UNITS, UNPOLLED_UNIT, DEAD_UNIT)]
    )
    sim.unit(DEAD_UNIT).online = False
    served = await sim.serve_tcp("127.0.0.1", 0)
    assert served.port is not None
    tap = WireTap(served.port)
    await tap.start()
    settings = BusSettings(
        "fuzz",
        TcpLine("127.0.0.1", tap.port),
        intervals=PollIntervals(alarm=0.2, telemetry=1.0, slow=5.0),
        # The bus's default: shorter, a loaded machine would time out units that answer.
        tcp_timeout=1.0,
        backoff_max=0.5,
        reopen_max=0.2,
    )
    devices = [DeviceSpec(f"arcm-{u}", u, profile) for u in (*ANSWERING_UNITS, DEAD_UNIT)]
    bus = Bus(settings, devices)
    running = asyncio.create_task(bus.run())
    gateways = [
        Gateway([bus], "127.0.0.1", tcp_port=0, rtu_port=0, allow_writes=writes)
        for writes in (False, True)
    ]
    try:
        for gateway in gateways:
            await gateway.start()
        await wait_until(lambda: bus.up is True, 20, "the bus's first connection")
        yield Rig(sim, tap, bus, *gateways)
    finally:
        for gateway in gateways:
            await gateway.stop()
        bus.stop()
        await asyncio.wait_for(running, timeout=10)
        await tap.stop()
        await sim.stop()


# --------------------------------------------------------------------------- the oracle


async def _read_answer(
    reader: asyncio.StreamReader, framing: Framing, function: int
) -> tuple[bytes, str | None]:
    """One answer frame (raw) and what is wrong with its form (None: nothing)."""
    if framing is Framing.MBAP:
        header = await reader.readexactly(7)
        _, protocol, length = struct.unpack(">HHH", header[:6])
        if protocol != 0 or not 2 <= length <= 254:
            return header, f"answer header protocol {protocol}, length {length}"
        body = await reader.readexactly(length - 1)
        return header + body, None
    head = await reader.readexactly(3)
    code = head[1]
    if code & 0x80:
        frame = head + await reader.readexactly(2)
    elif code in (1, 2, 3, 4, 23):
        frame = head + await reader.readexactly(head[2] + 2)
    elif code in (5, 6, 15, 16):
        frame = head + await reader.readexactly(5)
    elif code == 22:
        frame = head + await reader.readexactly(7)
    else:  # 43/14: variable; read what is there (answers come whole on loopback)
        frame = head + await asyncio.wait_for(reader.read(512), ANSWER_BOUND_S)
    if not crc_ok(frame):
        return frame, "answer with a bad CRC"
    return frame, None


def _judge(
    framing: Framing,
    answer: bytes,
    expected: tuple[int, int, int],
    read_only: bool,
) -> tuple[str, str] | None:
    """What is wrong with an answer to ``expected`` (kind, detail), or None."""
    transaction, unit, function = expected
    if framing is Framing.MBAP:
        got_transaction, got_unit, pdu = int.from_bytes(answer[:2], "big"), answer[6], answer[7:]
        if got_transaction != transaction:
            return "wrong_answer", f"transaction {got_transaction}, sent {transaction}"
    else:
        got_unit, pdu = answer[0], answer[1:-2]
    if got_unit != unit:
        return "wrong_answer", f"unit {got_unit}, sent {unit}"
    if not pdu:
        return "wrong_answer", "an empty PDU"
    if pdu[0] == function | 0x80:
        code = pdu[1] if len(pdu) > 1 else -1
        if code not in EXCEPTIONS:
            return "unclear_error", f"exception code {code:#04x} to function {function}"
        if read_only and function in WRITE_FUNCTIONS and code != 0x01:
            return "write_not_refused", f"write {function} answered {code:#04x}, not 01"
        return None
    if pdu[0] != function:
        return "wrong_answer", f"function {pdu[0]} answers function {function}"
    if read_only and function in WRITE_FUNCTIONS:
        return "write_through_read_only", f"write {function} answered as done"
    return None


async def _case(report: Report, case: Case, port: int, framing: Framing, read_only: bool) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(case.data)
        await writer.drain()
        for expected in case.requests:
            try:
                answer, wrong = await asyncio.wait_for(
                    _read_answer(reader, framing, expected[2]), ANSWER_BOUND_S
                )
            except TimeoutError:
                report.found("hang", case.data, f"no answer to {expected} in {ANSWER_BOUND_S} s")
                return
            except asyncio.IncompleteReadError:
                report.found(
                    "unanswered", case.data, f"connection closed before answering {expected}"
                )
                return
            if wrong is not None:
                report.found("wrong_answer", case.data, wrong)
                return
            judged = _judge(framing, answer, expected, read_only)
            if judged is not None:
                report.found(judged[0], case.data, judged[1])
                return
            code = answer[-3 if framing is Framing.RTU else -1]
            is_exception = (answer[1] if framing is Framing.RTU else answer[7]) & 0x80
            report.count(f"exception_{code:02x}" if is_exception else "normal_answers")
        if case.closes:
            try:
                rest = await asyncio.wait_for(reader.read(), ANSWER_BOUND_S)
            except TimeoutError:
                report.found("hang", case.data, "an unframable stream was not closed")
                return
            if rest:
                report.found(
                    "wrong_answer", case.data, f"answered {rest.hex()} to an unframable stream"
                )
            report.count("closed_unframable")
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def _probe(report: Report, case: Case, port: int, framing: Framing) -> None:
    """A valid read on a new connection answers normally: the gateway is still there."""
    frame = mbap(0x4242, 1, PROBE_PDU) if framing is Framing.MBAP else rtu(1, PROBE_PDU)
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port), ANSWER_BOUND_S
        )
    except (OSError, TimeoutError) as exc:
        report.found("unresponsive", case.data, f"cannot connect after it: {exc}")
        return
    try:
        writer.write(frame)
        answer, wrong = await asyncio.wait_for(_read_answer(reader, framing, 3), ANSWER_BOUND_S)
        pdu = answer[7:] if framing is Framing.MBAP else answer[1:-2]
        if wrong is not None or pdu[:2] != b"\x03\x04":
            report.found("unresponsive", case.data, f"a valid read after it got {answer.hex()}")
    except (TimeoutError, asyncio.IncompleteReadError, ConnectionError) as exc:
        report.found("unresponsive", case.data, f"a valid read after it failed: {exc!r}")
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def fuzz(config: FuzzConfig) -> Report:
    """Run ``config.cases`` cases, half through each gateway, alternating the framings."""
    rng = random.Random(config.seed)
    report = Report("gateway")
    codec = RequestCodec(Framing.RTU)
    async with running_rig() as rig:
        setpoints = {u: rig.sim.unit(u).peek(SETPOINT, 1) for u in ANSWERING_UNITS}
        halves = ((rig.read_only, (config.cases + 1) // 2), (rig.writable, config.cases // 2))
        for gateway, cases in halves:
            read_only = not gateway.allow_writes
            for index in range(cases):
                if report.enough:
                    break
                framing = Framing.MBAP if index % 2 == 0 else Framing.RTU
                port = gateway.tcp_port if framing is Framing.MBAP else gateway.rtu_port
                assert port is not None
                case = mbap_case(rng) if framing is Framing.MBAP else rtu_case(rng, codec)
                report.cases += 1
                try:
                    await _case(report, case, port, framing, read_only)
                except Exception as exc:  # the client side itself: report, go on
                    report.found("crash", case.data, f"{type(exc).__name__}: {exc}")
                await _probe(report, case, port, framing)
            if read_only:
                if rig.tap.writes:
                    report.found(
                        "write_reached_unit",
                        rig.tap.writes[0],
                        f"{len(rig.tap.writes)} writes on the line through the read-only gateway",
                    )
                changed = {
                    u for u, v in setpoints.items() if rig.sim.unit(u).peek(SETPOINT, 1) != v
                }
                if changed:
                    report.found("write_reached_unit", b"", f"units {sorted(changed)} changed")
        report.count("line_writes", len(rig.tap.writes))
        report.count("line_requests", sum(rig.tap.functions.values()))
        for name in ("requests", "answered", "forwarded", "rejected", "framing_errors"):
            report.count(
                f"gateway_{name}",
                sum(getattr(g.stats, name) for g in (rig.read_only, rig.writable)),
            )
    return report


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Fuzz and print ``name: value`` lines; exit 1 if anything was found."""
    return fuzz_main(__doc__, fuzz, argv, out, default_cases=2000)


if __name__ == "__main__":
    sys.exit(main())
