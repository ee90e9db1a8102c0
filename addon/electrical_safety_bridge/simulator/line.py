"""A simulated RS-485 bus: several units behind one line, served by pymodbus.

The bus turns :class:`SimulatedUnit` models into pymodbus ``SimDevice``s and serves them
over TCP, RTU-over-TCP or a serial port (a pseudo-terminal). It also plays the line itself:

* one transaction at a time, like a half-duplex RS-485 pair;
* optional wire timing: each response waits as long as the request and response frames
  would take at the bus's baud rate (:mod:`electrical_safety_bridge.modbus.timing`);
* an extra turnaround delay, a fraction of responses with a corrupted CRC, and silence for
  units that dropped out or do not exist, because a real bus answers those with nothing.

pymodbus facts this relies on (3.16): each ``SimDevice``'s ``action`` coroutine runs on every
register access, before pymodbus reads or writes its own copy of the registers, and may
return an exception code; ``trace_packet`` sees each outgoing frame and may rewrite it, and
an empty frame sends nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, Final

from pymodbus.constants import ExcCodes
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.server.base import ModbusBaseServer
from pymodbus.simulator import DataType, SimData, SimDevice
from pymodbus.simulator.simdevice import SimAction

from ..modbus import timing
from .scenarios import Scenario, resolve, run_scenario, run_scenarios
from .unit import ExceptionCode, SimulatedUnit, UnitException

_LOGGER = logging.getLogger(__name__)

#: Byte of a frame that holds the unit id, per framer (RTU: first byte; Modbus TCP: after
#: the 6-byte MBAP transaction, protocol and length fields).
_UNIT_ID_BYTE: Final = {FramerType.RTU: 0, FramerType.SOCKET: 6}


@dataclass(slots=True)
class BusCounters:
    """What the line has carried, for tests and benchmarks."""

    #: Requests that reached a unit's model (an FC 06 echo read is not counted twice).
    requests: int = 0
    #: Frames put on the line, corrupted ones included.
    responses: int = 0
    #: Responses sent with a deliberately broken CRC (on Modbus TCP: withheld, see bus).
    corrupted: int = 0
    #: Responses withheld because the unit dropped out or does not exist.
    dropped: int = 0
    #: Requests a unit refused with a Modbus exception (see ``_devices`` for the others).
    exceptions: int = 0


@dataclass(slots=True)
class SimulatedServer:
    """One way the bus is served: where a client connects, and the pymodbus server behind."""

    kind: str  # "tcp", "rtu-over-tcp" or "serial"
    host: str | None
    port: int | None
    path: str | None
    server: ModbusBaseServer

    @property
    def url(self) -> str:
        """Where to connect, as a one-line description."""
        if self.path is not None:
            return f"serial://{self.path}"
        return f"{self.kind}://{self.host}:{self.port}"

    async def close(self) -> None:
        """Stop serving (connections are closed)."""
        await self.server.shutdown()  # type: ignore[no-untyped-call]


class SimulatedBus:
    """Units sharing one line, with the line's own imperfections.

    ``corrupt_rate`` and ``turnaround_delay`` may be changed at any time (scenarios do);
    corruption draws from a ``random.Random(seed)``, so a run is repeatable. A corrupted RTU
    frame has its CRC broken; with ``corrupt_payload`` random bits of its data flip instead (the CRC
    still the one of the true data), so a master that trusted a frame without checking its CRC
    would read wrong values, a normal status as an alarm among them.
    """

    def __init__(
        self,
        units: Iterable[SimulatedUnit],
        *,
        baudrate: int = 9600,
        wire_timing: bool = False,
        framing: timing.Framing = timing.DEFAULT_FRAMING,
        corrupt_rate: float = 0.0,
        turnaround_delay: float = 0.0,
        corrupt_payload: bool = False,
        seed: int = 0,
    ) -> None:
        self._units: dict[int, SimulatedUnit] = {}
        for unit in units:
            if unit.unit_id in self._units:
                raise ValueError(f"two units use id {unit.unit_id}")
            self._units[unit.unit_id] = unit
        if not self._units:
            raise ValueError("a bus needs at least one unit")
        self.baudrate = baudrate
        self.wire_timing = wire_timing
        #: How characters are framed: with wire timing, frames take as long as it says
        #: (the bridge's serial line times its frames by the same definition).
        self.framing = framing
        self.corrupt_rate = corrupt_rate
        self.turnaround_delay = turnaround_delay
        self.corrupt_payload = corrupt_payload
        self.counters = BusCounters()
        self.servers: list[SimulatedServer] = []
        self._random = random.Random(seed)
        self._line = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def bits_per_char(self) -> int:
        """Bits of one character on the simulated line."""
        return self.framing.bits_per_char

    # ------------------------------------------------------------------ units

    @property
    def units(self) -> tuple[SimulatedUnit, ...]:
        """Every unit on the bus, by ascending id."""
        return tuple(self._units[i] for i in sorted(self._units))

    def unit(self, unit_id: int) -> SimulatedUnit:
        """The unit with this id."""
        try:
            return self._units[unit_id]
        except KeyError:
            raise KeyError(f"no unit {unit_id} on this bus") from None

    @property
    def frames_served(self) -> int:
        """Response frames put on the line so far (corrupted ones included)."""
        return self.counters.responses

    # ------------------------------------------------------------------ serving

    async def serve_tcp(
        self, host: str = "127.0.0.1", port: int = 0, *, rtu: bool = False
    ) -> SimulatedServer:
        """Serve Modbus TCP, or RTU frames over TCP (a serial-to-Ethernet gateway) with ``rtu``.

        Port 0 picks a free port; the returned server's ``port`` is the real one.
        """
        framer = FramerType.RTU if rtu else FramerType.SOCKET
        server = ModbusTcpServer(
            self._devices(),
            framer=framer,
            address=(host, port),
            trace_packet=self._tracer(framer),
        )
        await server.serve_forever(background=True)
        bound = port
        listener = server.transport
        sockets = getattr(listener, "sockets", None)
        if sockets:
            bound = int(sockets[0].getsockname()[1])
        served = SimulatedServer("rtu-over-tcp" if rtu else "tcp", host, bound, None, server)
        self.servers.append(served)
        return served

    async def serve_serial(self, path: str, *, baudrate: int | None = None) -> SimulatedServer:
        """Serve RTU on a serial device (typically one end of a :class:`PtyLink`)."""
        server = ModbusSerialServer(
            self._devices(),
            framer=FramerType.RTU,
            port=path,
            baudrate=baudrate or self.baudrate,
            trace_packet=self._tracer(FramerType.RTU),
        )
        await server.serve_forever(background=True)
        served = SimulatedServer("serial", None, None, path, server)
        self.servers.append(served)
        return served

    async def stop(self) -> None:
        """Stop every server and scenario, and the units' timers."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for served in self.servers:
            await served.close()
        self.servers.clear()
        for unit in self._units.values():
            unit.close()

    # ------------------------------------------------------------------ scenarios

    def inject(self, scenario: Scenario) -> asyncio.Task[None]:
        """Start one scenario step now (its ``at`` counts from now).

        The step is checked against the bus first, so a bad unit or channel raises
        :class:`ScenarioError` here rather than inside the task.
        """
        return self._track(run_scenario(self, resolve(scenario, self)))

    def play(self, scenarios: Iterable[Scenario]) -> asyncio.Task[None]:
        """Start a whole scenario file; every step is checked before any starts."""
        resolved = [resolve(scenario, self) for scenario in scenarios]
        return self._track(run_scenarios(self, resolved))

    def _track(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            _LOGGER.error("scenario failed: %s", error, exc_info=error)

    # ------------------------------------------------------------------ pymodbus glue

    def _devices(self) -> list[SimDevice]:
        """One SimDevice per unit, covering registers 0 to its highest.

        The block includes the gaps between the profile's registers so that every request
        inside it reaches the unit's model, which answers exception 02 for the gaps itself
        (after the wire delay, as a real device would). Requests beyond the highest register
        are answered 02 by pymodbus directly, without the delay or the exception counter.
        """
        devices = []
        for unit in self.units:
            span = unit.address_range
            devices.append(
                SimDevice(
                    id=unit.unit_id,
                    simdata=[
                        SimData(address=span.start, count=len(span), datatype=DataType.REGISTERS)
                    ],
                    action=self._action_for(unit),
                )
            )
        # Any other unit id lands here; its replies are withheld (see _outgoing), so the
        # master hears silence as on a real bus instead of a pymodbus error reply.
        devices.append(
            SimDevice(
                id=0,
                simdata=[SimData(address=0, datatype=DataType.REGISTERS)],
                action=_nobody,
            )
        )
        return devices

    def _action_for(self, unit: SimulatedUnit) -> SimAction:
        # _handle with the unit bound is the action: pymodbus passes the rest. A partial of a
        # coroutine function still passes SimDevice's iscoroutinefunction check.
        return functools.partial(self._handle, unit)

    async def _handle(
        self,
        unit: SimulatedUnit,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        """Run one request against the unit's model, on the line, in wire time."""
        if function_code == 6 and set_values is None:
            # pymodbus reads the register back to build the FC 06 echo: not a new request.
            self._copy(unit, start_address, address, count, registers)
            return None
        self.counters.requests += 1
        if not unit.online:
            return ExcCodes.DEVICE_FAILURE  # never heard: trace_packet withholds the frame
        async with self._line:
            result: ExcCodes | None = None
            try:
                if set_values is None:
                    unit.read_registers(function_code, address, count)
                    response = timing.read_response_bytes(count)
                else:
                    unit.write_registers(function_code, address, [int(v) for v in set_values])
                    response = (
                        timing.write_single_response_bytes()
                        if function_code == 6
                        else timing.write_multiple_response_bytes()
                    )
            except UnitException as exc:
                result = ExcCodes(int(exc.code))
                response = timing.EXCEPTION_RESPONSE_BYTES
                self.counters.exceptions += 1
            await self._wait(
                self._request_bytes(function_code, count), response, unit.turnaround_delay
            )
            if result is None and set_values is None:
                self._copy(unit, start_address, address, count, registers)
            return result

    @staticmethod
    def _copy(
        unit: SimulatedUnit, start_address: int, address: int, count: int, registers: list[int]
    ) -> None:
        """Put the model's registers where pymodbus will read them."""
        offset = address - start_address
        registers[offset : offset + count] = unit.peek(address, count)

    @staticmethod
    def _request_bytes(function_code: int, count: int) -> int:
        if function_code == 16:
            return timing.write_multiple_request_bytes(count)
        if function_code == 6:
            return timing.write_single_request_bytes()
        return timing.read_request_bytes()

    def wire_seconds(self, request_bytes: int, response_bytes: int) -> float:
        """How long one exchange holds the simulated line with wire timing on."""
        return timing.transaction_seconds(
            request_bytes, response_bytes, self.baudrate, self.bits_per_char
        )

    async def _wait(self, request_bytes: int, response_bytes: int, unit_delay: float = 0.0) -> None:
        delay = self.turnaround_delay + unit_delay
        if self.wire_timing:
            delay += self.wire_seconds(request_bytes, response_bytes)
        if delay > 0:
            await asyncio.sleep(delay)

    def _tracer(self, framer: FramerType) -> Callable[[bool, bytes], bytes]:
        position = _UNIT_ID_BYTE[framer]

        def trace_packet(sending: bool, data: bytes) -> bytes:
            if not sending or len(data) <= position:
                return data
            return self._outgoing(framer, data[position], data)

        return trace_packet

    def _outgoing(self, framer: FramerType, unit_id: int, frame: bytes) -> bytes:
        """Decide what of a response reaches the line: all, a corrupted copy, or nothing."""
        unit = self._units.get(unit_id)
        if unit is None or not unit.online:
            self.counters.dropped += 1
            return b""
        if self.corrupt_rate > 0 and self._random.random() < self.corrupt_rate:
            self.counters.corrupted += 1
            if framer is FramerType.SOCKET:
                # Modbus TCP has no CRC: a gateway that got a bad CRC from the line drops
                # the reply, so its client hears nothing.
                return b""
            self.counters.responses += 1
            if self.corrupt_payload and len(frame) > 5:
                # Address, function and byte count kept: the frame still reads as this
                # unit's answer of the right length; only the CRC gives it away.
                noise = bytes(self._random.randrange(1, 256) for _ in frame[3:-2])
                data = bytes(b ^ n for b, n in zip(frame[3:-2], noise, strict=True))
                return frame[:3] + data + frame[-2:]
            return frame[:-1] + bytes([frame[-1] ^ 0xFF])
        self.counters.responses += 1
        return frame


async def _nobody(
    function_code: int,
    start_address: int,
    address: int,
    count: int,
    registers: list[int],
    set_values: list[int] | list[bool] | None,
) -> ExcCodes | None:
    """The catch-all device for unit ids nobody has: no model, no effect."""
    return ExcCodes.DEVICE_FAILURE


__all__ = ["BusCounters", "ExceptionCode", "SimulatedBus", "SimulatedServer"]
