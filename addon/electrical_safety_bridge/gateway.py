"""The optional Modbus gateway: other masters reach the bridge's buses through its queues.

SCADA tools, ``mbpoll`` or another integration connect here instead of to the RS-485 line,
so that the line keeps one master (design.md, "One owner per bus"). Two listeners may run:

* **Modbus TCP** (MBAP framing: transaction id, protocol 0, length, unit id);
* **RTU over TCP** (raw RTU frames with their CRC, as serial-to-Ethernet converters carry).

Every request is decoded, routed by its unit id to the :class:`~.bus.Bus` that has that
unit, queued there at command priority by :meth:`Bus.forward` and sent **once**: the
gateway never retries, a write from another master is that master's to repeat
(reference/addon_relay.md §2.6 item 8; mbusd and modbus-proxy both retry writes).

What a client gets back:

* the device's own response, exception replies included, with the client's own
  transaction id and unit id put back (the bus side numbers its transactions itself);
* exception **0x0B** (gateway target device failed to respond) when the unit is silent, and
  when a unit is on none of several buses (with exactly one bus it is forwarded anyway:
  other masters may address units the bridge does not poll);
* exception **0x0A** (gateway path unavailable) when the line is down, the bus's queue is
  full, the unit id is on more than one bus (routing would be a guess), or for unit 0: a
  broadcast would reach every unit on the line, and a broadcast has no answer to wait for;
* exception **0x01** (illegal function) for a function pymodbus cannot decode, **0x03**
  (illegal data value) for a known function whose data is malformed or whose count is
  beyond the Modbus limits (Modbus application protocol v1.1b3, §7 and §6.1-6.4); such
  requests never reach the line.

Each connection is answered strictly in order, one request on the line at a time, so
responses never cross between clients; concurrent clients are serialized by the bus queue.
A connection reads ahead at most ``max_pipelined`` requests, then stops reading (TCP flow
control does the rest). When a client goes away, its request waiting in the bus queue is
cancelled and never sent, and what it had read ahead is dropped.

Framing and CRC are pymodbus's (``FramerSocket`` / ``FramerRTU`` with a server-side
``DecodePDU``). The gateway calls the framer's ``decode`` and the decoder itself rather than
``handleFrame``, which composes the same two steps, because it needs the frame's length
and transaction id even when the PDU inside cannot be decoded, to answer that request
and skip exactly it. pymodbus's RTU framer reports a whole buffer as used once it finds a
frame; the gateway locates the frame it returned in the buffer, so a second request that
arrived in the same TCP segment is kept and answered too. Garbage is discarded by the
framers; a Modbus TCP stream that cannot be framed (wrong protocol id, impossible length)
cannot be resynchronised and its connection is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Self

from pymodbus.constants import ExcCodes
from pymodbus.framer import FramerBase, FramerRTU, FramerSocket, FramerType
from pymodbus.pdu import DecodePDU, ExceptionResponse, ModbusPDU

from .bus import Bus
from .commands import WRITE_FUNCTIONS
from .errors import BusBusy, BusError, CommandRefused, DeviceTimeout

_LOGGER = logging.getLogger(__name__)

DEFAULT_MAX_CLIENTS: Final = 16
DEFAULT_MAX_PIPELINED: Final = 8
#: The longest frame either framing can carry (pymodbus's bound, 264 bytes). A buffer this
#: long that holds no frame holds garbage.
MAX_ADU_BYTES: Final = FramerBase.MAX_SIZE
#: Unit id 0 is the Modbus broadcast address.
BROADCAST_UNIT: Final = 0
_READ_SIZE: Final = 1024
#: StreamReader limit: its transport pauses reading at twice this many unread bytes.
_STREAM_LIMIT: Final = 4096
#: Largest quantity each read function allows (Modbus application protocol v1.1b3 §6.1-6.4).
_MAX_READ_COUNT: Final = {1: 2000, 2: 2000, 3: 125, 4: 125}

_LISTENER_NAMES: Final = {FramerType.SOCKET: "tcp", FramerType.RTU: "rtu-over-tcp"}


@dataclass(slots=True)
class GatewayStats:
    """Counters for the health page and tests."""

    accepted: int = 0  # connections accepted since start
    refused: int = 0  # connections refused because max_clients were connected
    requests: int = 0  # requests decoded from clients
    answered: int = 0  # responses written back, gateway exceptions included
    forwarded: int = 0  # responses that came from a device
    timeouts: int = 0  # answered 0x0B: the unit was silent, or is on none of several buses
    unavailable: int = 0  # answered 0x0A (line down, queue full, broadcast, ambiguous unit)
    rejected: int = 0  # answered 0x01 or 0x03 without using the line
    dropped: int = 0  # requests of clients that left before their answer

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "accepted": self.accepted,
            "refused": self.refused,
            "requests": self.requests,
            "answered": self.answered,
            "forwarded": self.forwarded,
            "timeouts": self.timeouts,
            "unavailable": self.unavailable,
            "rejected": self.rejected,
            "dropped": self.dropped,
        }


@dataclass(frozen=True, slots=True)
class _Request:
    """One framed request: a PDU to forward, or an exception the gateway answers itself."""

    unit: int
    transaction_id: int
    function_code: int
    pdu: ModbusPDU | None
    refusal: int | None = None


def _exception(request: _Request, code: int) -> ExceptionResponse:
    return ExceptionResponse(
        request.function_code & 0x7F,
        code,
        device_id=request.unit,
        transaction=request.transaction_id,
    )


def _peer(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer)


class Gateway:
    """Modbus TCP and RTU-over-TCP listeners in front of the bridge's buses.

    ``tcp_port`` and ``rtu_port`` choose the listeners: ``None`` leaves one off, ``0``
    picks a free port (read the real one from :attr:`tcp_port` / :attr:`rtu_port` after
    :meth:`start`). Bind ``host`` to one address: with a name that resolves to several and
    port 0, each address would get its own port and only the first is reported.
    ``idle_timeout`` closes a connection that sent nothing for that many seconds (off by
    default: a master polling every few minutes is normal).
    """

    def __init__(
        self,
        buses: Sequence[Bus],
        host: str = "127.0.0.1",
        tcp_port: int | None = None,
        rtu_port: int | None = None,
        *,
        max_clients: int = DEFAULT_MAX_CLIENTS,
        max_pipelined: int = DEFAULT_MAX_PIPELINED,
        idle_timeout: float | None = None,
        allow_writes: bool = False,
    ) -> None:
        if not buses:
            raise ValueError("a gateway needs at least one bus")
        if tcp_port is None and rtu_port is None:
            raise ValueError("give tcp_port, rtu_port or both")
        if max_clients < 1 or max_pipelined < 1:
            raise ValueError("max_clients and max_pipelined must be at least 1")
        self.buses: tuple[Bus, ...] = tuple(buses)
        self.host = host
        self.max_clients = max_clients
        self.max_pipelined = max_pipelined
        self.idle_timeout = idle_timeout
        self.allow_writes = allow_writes
        self.stats = GatewayStats()
        self._wanted: dict[FramerType, int | None] = {
            FramerType.SOCKET: tcp_port,
            FramerType.RTU: rtu_port,
        }
        self._ports: dict[FramerType, int] = {}
        self._servers: list[asyncio.Server] = []
        self._connections: set[asyncio.Task[Any]] = set()
        self._problems: set[str] = set()
        self._routes: dict[int, tuple[Bus, ...]] = {}

    # ------------------------------------------------------------------ public

    @property
    def tcp_port(self) -> int | None:
        """The Modbus TCP listener's port (the real one once started), or None if off."""
        return self._ports.get(FramerType.SOCKET, self._wanted[FramerType.SOCKET])

    @property
    def rtu_port(self) -> int | None:
        """The RTU-over-TCP listener's port (the real one once started), or None if off."""
        return self._ports.get(FramerType.RTU, self._wanted[FramerType.RTU])

    @property
    def clients(self) -> int:
        """Connections currently open."""
        return len(self._connections)

    async def start(self) -> None:
        """Open the listeners. An address already in use raises OSError (nothing stays open)."""
        if self._servers:
            raise RuntimeError("the gateway is already started")
        self._routes = self._route_table()
        try:
            for kind, port in self._wanted.items():
                if port is None:
                    continue
                server = await asyncio.start_server(
                    functools.partial(self._accept, kind),
                    self.host,
                    port,
                    limit=_STREAM_LIMIT,
                    reuse_address=True,
                )
                self._servers.append(server)
                self._ports[kind] = int(server.sockets[0].getsockname()[1])
        except BaseException:
            await self.stop()
            raise
        _LOGGER.info(
            "Modbus gateway listening on %s",
            ", ".join(f"{_LISTENER_NAMES[k]} {self.host}:{p}" for k, p in self._ports.items()),
        )

    async def stop(self) -> None:
        """Close the listeners and every connection; requests not yet sent are dropped."""
        servers, self._servers = self._servers, []
        for server in servers:
            server.close()
        connections = list(self._connections)
        for task in connections:
            task.cancel()
        await asyncio.gather(*connections, return_exceptions=True)
        for server in servers:
            with contextlib.suppress(OSError):
                await server.wait_closed()
        self._ports.clear()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ routing

    def _route_table(self) -> dict[int, tuple[Bus, ...]]:
        routes: dict[int, tuple[Bus, ...]] = {}
        for bus in self.buses:
            for unit in bus.units.values():
                found = routes.get(unit.spec.unit, ())
                if bus not in found:
                    routes[unit.spec.unit] = (*found, bus)
        for unit_id, buses in sorted(routes.items()):
            if len(buses) > 1:
                _LOGGER.warning(
                    "Modbus gateway: unit %d is on buses %s; requests for it are answered "
                    "0x0A (gateway path unavailable). Give each bus its own gateway to reach it",
                    unit_id,
                    ", ".join(b.settings.id for b in buses),
                )
        return routes

    def _route(self, unit: int) -> Bus | int:
        """The bus for a unit id, or the exception code to answer instead."""
        if unit == BROADCAST_UNIT:
            return ExcCodes.GATEWAY_PATH_UNAVIABLE
        buses = self._routes.get(unit)
        if buses is None:
            if len(self.buses) == 1:
                return self.buses[0]
            return ExcCodes.GATEWAY_NO_RESPONSE
        if len(buses) > 1:
            return ExcCodes.GATEWAY_PATH_UNAVIABLE
        return buses[0]

    async def _handle(self, request: _Request, peer: str = "unknown") -> ModbusPDU:
        """The answer to one request: the device's, or an exception."""
        if request.refusal is not None or request.pdu is None:
            self.stats.rejected += 1
            return _exception(request, request.refusal or ExcCodes.ILLEGAL_FUNCTION)
        route = self._route(request.unit)
        if not isinstance(route, Bus):
            if route == ExcCodes.GATEWAY_NO_RESPONSE:
                self.stats.timeouts += 1
            else:
                self.stats.unavailable += 1
            return _exception(request, route)
        bus = route
        name = bus.settings.id
        if request.pdu.function_code in WRITE_FUNCTIONS and not self.allow_writes:
            # Read-only unless the user opts in: another master's write would bypass the
            # profile review and the alarm history a person sees in Home Assistant.
            self.stats.rejected += 1
            return _exception(request, ExcCodes.ILLEGAL_FUNCTION)
        try:
            response = await bus.forward(request.pdu, who=f"modbus gateway client {peer}")
        except CommandRefused as exc:
            self.stats.rejected += 1
            self._problem(
                f"refused:{name}:{request.unit}",
                "Modbus gateway: write to unit %d refused: %s",
                request.unit,
                exc,
            )
            return _exception(request, ExcCodes.ILLEGAL_FUNCTION)
        except DeviceTimeout:
            self.stats.timeouts += 1
            return _exception(request, ExcCodes.GATEWAY_NO_RESPONSE)
        except BusBusy as exc:
            self.stats.unavailable += 1
            self._problem(
                f"busy:{name}", "Modbus gateway: bus %s is busy (%s); answering 0x0A", name, exc
            )
            return _exception(request, ExcCodes.GATEWAY_PATH_UNAVIABLE)
        except BusError as exc:
            self.stats.unavailable += 1
            self._problem(
                f"down:{name}", "Modbus gateway: bus %s is down (%s); answering 0x0A", name, exc
            )
            return _exception(request, ExcCodes.GATEWAY_PATH_UNAVIABLE)
        except Exception as exc:
            self.stats.unavailable += 1
            self._error_once(
                f"error:{name}", exc, "Modbus gateway: forwarding to bus %s failed", name
            )
            return _exception(request, ExcCodes.DEVICE_FAILURE)
        for key in (f"busy:{name}", f"down:{name}", f"error:{name}"):
            self._solved(key, "Modbus gateway: bus %s answers again", name)
        self.stats.forwarded += 1
        response.transaction_id = request.transaction_id
        response.dev_id = request.unit
        return response

    # ------------------------------------------------------------------ problems, logged once

    def _problem(self, key: str, message: str, *args: object) -> None:
        if key in self._problems:
            _LOGGER.debug(message, *args)
            return
        self._problems.add(key)
        _LOGGER.warning(message, *args)

    def _error_once(self, key: str, exc: BaseException, message: str, *args: object) -> None:
        if key in self._problems:
            _LOGGER.debug(message + ": %s", *args, exc)
            return
        self._problems.add(key)
        _LOGGER.error(message, *args, exc_info=exc)

    def _solved(self, key: str, message: str, *args: object) -> None:
        if key in self._problems:
            self._problems.discard(key)
            _LOGGER.info(message, *args)

    # ------------------------------------------------------------------ connections

    async def _accept(
        self, kind: FramerType, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        peer = _peer(writer)
        listener = _LISTENER_NAMES[kind]
        if len(self._connections) >= self.max_clients:
            self.stats.refused += 1
            self._problem(
                "full",
                "Modbus gateway: refused a %s client from %s: %d clients are connected, the "
                "limit (max_clients)",
                listener,
                peer,
                len(self._connections),
            )
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return
        task = asyncio.current_task()
        assert task is not None  # asyncio runs each client callback in its own task
        self._connections.add(task)
        self.stats.accepted += 1
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        _LOGGER.debug("Modbus gateway: %s client %s connected", listener, peer)
        connection = _Connection(self, kind, reader, writer)
        try:
            await connection.serve()
        finally:
            self._connections.discard(task)
            self.stats.dropped += connection.received - connection.answered
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            _LOGGER.debug(
                "Modbus gateway: %s client %s disconnected (%d requests, %d unanswered)",
                listener,
                peer,
                connection.received,
                connection.received - connection.answered,
            )
            if len(self._connections) < self.max_clients:
                self._solved("full", "Modbus gateway: accepting clients again")


class _Connection:
    """One client: a reader that frames requests, a writer that answers them in order."""

    def __init__(
        self,
        gateway: Gateway,
        kind: FramerType,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.gateway = gateway
        self.kind = kind
        self.reader = reader
        self.writer = writer
        self.decoder = DecodePDU(is_server=True)
        self.framer: FramerBase = (
            FramerRTU(self.decoder) if kind is FramerType.RTU else FramerSocket(self.decoder)
        )
        self.received = 0
        self.answered = 0

    async def serve(self) -> None:
        """Read and answer until the client leaves; then drop what it left behind."""
        requests: asyncio.Queue[_Request] = asyncio.Queue(self.gateway.max_pipelined)
        reading = asyncio.create_task(self._read(requests))
        answering = asyncio.create_task(self._answer(requests))
        try:
            await asyncio.wait({reading, answering}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            # Cancelling the answering task cancels its Bus.forward: a request still in the
            # bus queue is never sent.
            reading.cancel()
            answering.cancel()
            results = await asyncio.gather(reading, answering, return_exceptions=True)
        for result in results:
            if isinstance(result, (ConnectionError, TimeoutError)):
                continue  # the client went away
            if isinstance(result, Exception):
                self.gateway._error_once(
                    f"connection:{type(result).__name__}",
                    result,
                    "Modbus gateway: a connection failed",
                )

    async def _receive(self) -> bytes:
        timeout = self.gateway.idle_timeout
        try:
            if timeout is None:
                return await self.reader.read(_READ_SIZE)
            return await asyncio.wait_for(self.reader.read(_READ_SIZE), timeout)
        except TimeoutError:
            _LOGGER.debug("Modbus gateway: closing a connection idle for %g s", timeout)
            return b""
        except ConnectionError:
            return b""

    async def _read(self, requests: asyncio.Queue[_Request]) -> None:
        buffer = b""
        while data := await self._receive():
            buffer += data
            while buffer:
                used, request = self._frame(buffer)
                if not used:
                    break
                buffer = buffer[used:]
                if request is not None:
                    self.received += 1
                    self.gateway.stats.requests += 1
                    await requests.put(request)  # full: stop reading, TCP pushes back
            if len(buffer) >= MAX_ADU_BYTES:
                if self.kind is FramerType.SOCKET:
                    _LOGGER.debug(
                        "Modbus gateway: closing a Modbus TCP stream that cannot be framed"
                    )
                    return
                buffer = b""  # RTU: no frame starts anywhere in it; hunt afresh

    def _frame(self, buffer: bytes) -> tuple[int, _Request | None]:
        """Bytes used at the head of ``buffer`` (0: wait for more) and the request found."""
        try:
            used, unit, tid, payload = self.framer.decode(buffer)
        except Exception:  # a frame pymodbus cannot size (e.g. FC 43, unknown MEI type)
            return len(buffer), None
        if not used or not payload:
            return used, None
        if self.kind is FramerType.RTU:
            # pymodbus reports the whole buffer as used; keep what follows this frame.
            frame = bytes([unit]) + payload
            start = buffer.find(frame)
            if start >= 0:
                used = start + len(frame) + 2  # the CRC, already checked by the framer
        function = payload[0]
        pdu = self.decoder.decode(payload)
        if pdu is None or pdu.isError():
            known = function in self.decoder.pdu_table
            code = ExcCodes.ILLEGAL_VALUE if known else ExcCodes.ILLEGAL_FUNCTION
            return used, _Request(unit, tid, function, None, code)
        limit = _MAX_READ_COUNT.get(function)
        if limit is not None and not 1 <= pdu.count <= limit:
            return used, _Request(unit, tid, function, None, ExcCodes.ILLEGAL_VALUE)
        pdu.dev_id = unit
        pdu.transaction_id = tid
        return used, _Request(unit, tid, function, pdu)

    async def _answer(self, requests: asyncio.Queue[_Request]) -> None:
        while True:
            request = await requests.get()
            response = await self.gateway._handle(request, _peer(self.writer))
            self.writer.write(self.framer.buildFrame(response))
            await self.writer.drain()
            self.answered += 1
            self.gateway.stats.answered += 1


__all__ = ["DEFAULT_MAX_CLIENTS", "DEFAULT_MAX_PIPELINED", "Gateway", "GatewayStats"]
