"""The optional Modbus gateway: other masters reach the bridge's buses through its queues.

SCADA tools, ``mbpoll`` or another integration connect here instead of to the RS-485 line,
so that the line keeps one master (design.md, "One owner per bus"). Two listeners may run:

* **Modbus TCP** (MBAP framing: transaction id, protocol 0, length, unit id);
* **RTU over TCP** (raw RTU frames with their CRC, as serial-to-Ethernet converters carry).

**What passes is an allowlist.** Read-only (the default), the gateway forwards only the
read functions: read coils (01), discrete inputs (02), holding registers (03), input
registers (04) and read device identification (43 with MEI type 14). With ``allow_writes``
the write functions 05, 06, 15, 16, 22 and 23 pass too, on to :meth:`Bus.forward`, which
applies the verified-profile rule and the close interlock and records each write. Every
other function (diagnostics 08, whose "force listen only" would silence a detector, the
event counters 11/12, 17, the file records 20/21, the FIFO 24, other MEI types of 43, any
unknown code, and writes while writes are off) is answered exception **0x01** (illegal
function) by the gateway itself and never reaches the line. Each refusal is counted in
:class:`GatewayStats` and logged at warning level once per client address and function.

Every forwarded request is decoded, routed by its unit id to the :class:`~..bus.scheduler.Bus` that
has that unit, queued there by :meth:`Bus.forward` and sent **once**: the gateway never
retries, a write from another master is that master's to repeat (reference/addon_relay.md
§2.6 item 8; mbusd and modbus-proxy both retry writes).

What a client gets back:

* the device's own response, exception replies included, with the client's own
  transaction id and unit id put back (the bus side numbers its transactions itself);
* exception **0x0B** (gateway target device failed to respond) when the unit is silent, and
  when a unit is on none of several buses (with exactly one bus it is forwarded anyway:
  other masters may address units the bridge does not poll);
* exception **0x0A** (gateway path unavailable) when the line is down, the bus's queue is
  full, the unit id is on more than one bus (routing would be a guess), or for unit 0: a
  broadcast would reach every unit on the line, and a broadcast has no answer to wait for;
* exception **0x01** (illegal function) for a function outside the allowlist and for a
  write :meth:`Bus.forward` refuses (unverified profile, close interlock), and **0x03**
  (illegal data value) for an allowed function whose data is malformed, beyond the Modbus
  limits (Modbus application protocol v1.1b3, §6 and §7), or not exactly what pymodbus
  would put on the line (a request must encode back to the client's own bytes, so that
  the device gets what the client sent); such requests never reach the line;
* exception **0x04** (server device failure) when pymodbus cannot carry a request or its
  answer; the line itself stays open.

Each connection is answered strictly in order, one request of it on the line at a time, so
responses never cross between clients; the bus takes the requests of its clients in turn.

**Connections are bounded** (mbusd's lessons, reference/addon_relay.md §2.2 and §2.6):

* at most ``max_clients`` connections (default 16) over both listeners together. When
  they are all open, a new connection closes the one idle longest, provided it has been
  idle at least ``eviction_grace`` seconds (default 5 s); otherwise the new connection is
  refused (closed at once). So idle connections cannot lock other masters out;
* a connection idle for ``idle_timeout`` seconds (default 300 s; None: never) is closed.
  Idle means no complete request received and none being answered: a trickle of partial
  frames does not keep a connection open, a slow answer from the bus does not close it.
  A client that takes no answer for that long (its socket does not drain) is closed too,
  since a connection with an answer pending is never idle, and never evicted;
* a connection reads ahead at most ``max_pipelined`` requests (default 8), then stops
  reading (TCP flow control does the rest);
* a Modbus TCP stream that cannot be framed (protocol id not 0, a length field outside
  2..254) cannot be resynchronised: the requests read before it are answered, then the
  connection is closed.

When a client goes away, its request waiting in the bus queue is cancelled and never sent,
and what it had read ahead is dropped.

Framing: the MBAP header is read here (7 bytes); RTU frames are sized by pymodbus for the
functions the gateway forwards and by their CRC (the shortest prefix with a valid one) for
the others, whose sizes pymodbus does not know (FC 43/13, unknown codes) or may get wrong
(FC 08 echoes any amount of data). Garbage before a frame of a forwarded function is
skipped; a frame of another function is recognised only at the start of the unread data
(where the client's data starts, or right after the previous frame), so one that follows
garbage goes unanswered, like the garbage: searching every offset for a valid CRC would
cost a CRC search per byte of garbage. PDUs are decoded by pymodbus's server-side
``DecodePDU``; the gateway calls it itself, rather than a framer's ``handleFrame``,
because it needs the frame's length and transaction id even when the PDU inside cannot be
decoded, to answer that request and skip exactly it. Everything of pymodbus the gateway
uses (decoder, framers, CRC, exception responses) is reached through
:mod:`..modbus.framing`; this module imports no pymodbus itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import logging
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Self

from ..bus.scheduler import Bus
from ..common.enums import EventType
from ..errors import BusBusy, BusError, CommandRefused, DeviceTimeout
from ..modbus.framing import (
    DEVICE_FAILURE,
    GATEWAY_NO_RESPONSE,
    GATEWAY_PATH_UNAVAILABLE,
    ILLEGAL_FUNCTION,
    ILLEGAL_VALUE,
    MAX_ADU_BYTES,
    Framing,
    ModbusPDU,
    RequestCodec,
    crc_ok,
    exception_response,
    readdress_response,
    shortest_crc_frame,
)
from ..safety.commands import WRITE_FUNCTIONS
from ..safety.events import BridgeEvent
from .gateway_settings import (
    DEFAULT_EVICTION_GRACE,
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_CLIENTS,
    DEFAULT_MAX_PIPELINED,
)

_LOGGER = logging.getLogger(__name__)

#: Functions that only read: coils (01), discrete inputs (02), holding registers (03) and
#: input registers (04). Forwarded in every mode.
READ_FUNCTIONS: Final = frozenset({1, 2, 3, 4})
#: Function 43 (encapsulated interface transport) carries several MEI types; only type 14,
#: read device identification, is a read. The others (13: CANopen) are refused.
ENCAPSULATED_INTERFACE: Final = 0x2B
READ_DEVICE_IDENTIFICATION: Final = 0x0E

#: Unit id 0 is the Modbus broadcast address.
BROADCAST_UNIT: Final = 0
_READ_SIZE: Final = 1024
#: StreamReader limit: its transport pauses reading at twice this many unread bytes.
_STREAM_LIMIT: Final = 4096
#: MBAP: transaction id, protocol id, length (2 bytes each), unit id. The length counts the
#: unit id and the PDU: at least a function code, at most a 253-byte PDU.
_MBAP_HEADER_BYTES: Final = 7
_MBAP_LENGTH_RANGE: Final = range(2, 255)
#: An RTU frame: unit id, function code, at most 252 data bytes, CRC.
_RTU_MIN_BYTES: Final = 4
_RTU_MAX_BYTES: Final = 256
#: Refusals are logged once per (client address, function); beyond this many pairs they
#: are logged at debug level only, so that a scanner cannot grow the set without bound.
_MAX_LOGGED_REFUSALS: Final = 1024

_FUNCTION_NAMES: Final = {
    5: "write single coil",
    6: "write single register",
    7: "read exception status",
    8: "diagnostics",
    11: "get comm event counter",
    12: "get comm event log",
    15: "write multiple coils",
    16: "write multiple registers",
    17: "report server id",
    20: "read file record",
    21: "write file record",
    22: "mask write register",
    23: "read/write multiple registers",
    24: "read FIFO queue",
    43: "encapsulated interface transport",
}


@dataclass(slots=True)
class GatewayStats:
    """Counters for the health page and tests."""

    accepted: int = 0  # connections accepted since start
    refused: int = 0  # connections refused: max_clients open and none idle long enough
    evicted: int = 0  # idle connections closed to let a new client in
    idle_closed: int = 0  # connections closed after idle_timeout
    framing_errors: int = 0  # Modbus TCP connections closed because they could not be framed
    requests: int = 0  # requests decoded from clients
    answered: int = 0  # responses written back, gateway exceptions included
    forwarded: int = 0  # responses that came from a device
    timeouts: int = 0  # answered 0x0B: the unit was silent, or is on none of several buses
    unavailable: int = 0  # answered 0x0A (line down, queue full, broadcast, ambiguous unit)
    failed: int = 0  # answered 0x04: pymodbus could not carry the request or its answer
    rejected: int = 0  # answered 0x01 or 0x03 without using the line (all reasons)
    functions_refused: int = 0  # of those: a function outside the allowlist (0x01)
    writes_refused: int = 0  # of those: a write while writes are off (0x01)
    dropped: int = 0  # requests of clients that left before their answer

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "accepted": self.accepted,
            "refused": self.refused,
            "evicted": self.evicted,
            "idle_closed": self.idle_closed,
            "framing_errors": self.framing_errors,
            "requests": self.requests,
            "answered": self.answered,
            "forwarded": self.forwarded,
            "timeouts": self.timeouts,
            "unavailable": self.unavailable,
            "failed": self.failed,
            "rejected": self.rejected,
            "functions_refused": self.functions_refused,
            "writes_refused": self.writes_refused,
            "dropped": self.dropped,
        }


class _Blocked(enum.Enum):
    """Why the allowlist refuses a request."""

    FUNCTION = "function"  # not a read, nor a write the gateway may forward
    WRITE = "write"  # a write while writes are off


@dataclass(frozen=True, slots=True)
class _Request:
    """One framed request: a PDU to forward, or an exception the gateway answers itself."""

    unit: int
    transaction_id: int
    function_code: int
    pdu: ModbusPDU | None
    refusal: int | None = None
    blocked: _Blocked | None = None
    function_name: str = ""


class _FramingError(Exception):
    """A Modbus TCP stream that cannot be framed; the connection is closed."""


def _exception(request: _Request, code: int) -> ModbusPDU:
    return exception_response(request.function_code, code, request.unit, request.transaction_id)


def _peer(writer: asyncio.StreamWriter) -> tuple[str, str]:
    """The client's ``host:port`` and its host alone."""
    peer = writer.get_extra_info("peername")
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}", str(peer[0])
    return str(peer), str(peer)


def _function_name(function: int, payload: bytes) -> str:
    """For logs, in the Modbus specification's decimal numbering: ``function 08
    (diagnostics)``, ``function 43/13 (encapsulated interface transport)``."""
    number = f"{function:02d}"
    if function == ENCAPSULATED_INTERFACE and len(payload) > 1:
        number += f"/{payload[1]}"
    name = _FUNCTION_NAMES.get(function, f"{function:#04x}, unknown")
    return f"function {number} ({name})"


def _mbap_frame(buffer: bytes) -> tuple[int, int, int, bytes]:
    """Bytes used at the head of ``buffer`` (0: wait for more), unit, transaction id, PDU.

    Raises _FramingError for a header no Modbus TCP client sends.
    """
    if len(buffer) < _MBAP_HEADER_BYTES:
        return 0, 0, 0, b""
    transaction_id = int.from_bytes(buffer[0:2], "big")
    protocol = int.from_bytes(buffer[2:4], "big")
    length = int.from_bytes(buffer[4:6], "big")
    if protocol != 0:
        raise _FramingError(f"protocol id {protocol}, not 0")
    if length not in _MBAP_LENGTH_RANGE:
        raise _FramingError(f"length field {length}, outside 2..254")
    used = 6 + length
    if len(buffer) < used:
        return 0, 0, 0, b""
    return used, buffer[6], transaction_id, buffer[_MBAP_HEADER_BYTES:used]


def _finished_true(task: asyncio.Task[bool]) -> bool:
    """Whether ``task`` is done and returned True (not cancelled, no exception)."""
    return task.done() and not task.cancelled() and task.exception() is None and task.result()


class Gateway:
    """Modbus TCP and RTU-over-TCP listeners in front of the bridge's buses.

    ``tcp_port`` and ``rtu_port`` choose the listeners: ``None`` leaves one off, ``0``
    picks a free port (read the real one from :attr:`tcp_port` / :attr:`rtu_port` after
    :meth:`start`). Bind ``host`` to one address: with a name that resolves to several and
    port 0, each address would get its own port and only the first is reported.
    ``allow_writes`` lets the write functions through (see the module docstring for the
    allowlist and the connection bounds: ``max_clients``, ``max_pipelined``,
    ``idle_timeout``, None for never, and ``eviction_grace``).
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
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
        eviction_grace: float = DEFAULT_EVICTION_GRACE,
        allow_writes: bool = False,
        record: Callable[[BridgeEvent], None] | None = None,
    ) -> None:
        if not buses:
            raise ValueError("a gateway needs at least one bus")
        if tcp_port is None and rtu_port is None:
            raise ValueError("give tcp_port, rtu_port or both")
        if max_clients < 1 or max_pipelined < 1:
            raise ValueError("max_clients and max_pipelined must be at least 1")
        if idle_timeout is not None and not idle_timeout > 0:
            raise ValueError("idle_timeout must be positive (or None: never)")
        if not eviction_grace >= 0:
            raise ValueError("eviction_grace must not be negative")
        self.buses: tuple[Bus, ...] = tuple(buses)
        self.host = host
        self.max_clients = max_clients
        self.max_pipelined = max_pipelined
        self.idle_timeout = idle_timeout
        self.eviction_grace = eviction_grace
        self.allow_writes = allow_writes
        # The event log: each refused (client address, function), once, as a refused command.
        self._record = record or (lambda event: None)
        self.stats = GatewayStats()
        self._wanted: dict[Framing, int | None] = {
            Framing.MBAP: tcp_port,
            Framing.RTU: rtu_port,
        }
        self._ports: dict[Framing, int] = {}
        self._servers: list[asyncio.Server] = []
        self._connections: dict[asyncio.Task[Any], _Connection] = {}
        self._evicted: set[asyncio.Task[Any]] = set()  # cancelled, still closing
        self._problems: set[str] = set()
        self._logged_refusals: set[tuple[str, str]] = set()
        self._routes: dict[int, tuple[Bus, ...]] = {}

    # ------------------------------------------------------------------ public

    @property
    def tcp_port(self) -> int | None:
        """The Modbus TCP listener's port (the real one once started), or None if off."""
        return self._ports.get(Framing.MBAP, self._wanted[Framing.MBAP])

    @property
    def rtu_port(self) -> int | None:
        """The RTU-over-TCP listener's port (the real one once started), or None if off."""
        return self._ports.get(Framing.RTU, self._wanted[Framing.RTU])

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
            "Modbus gateway listening on %s (%s)",
            ", ".join(f"{k.value} {self.host}:{p}" for k, p in self._ports.items()),
            "reads and writes" if self.allow_writes else "read-only",
        )

    async def stop(self) -> None:
        """Close the listeners and every connection; requests not yet sent are dropped."""
        servers, self._servers = self._servers, []
        for server in servers:
            server.close()
        connections = [*self._connections, *self._evicted]
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

    # ------------------------------------------------------------------ the allowlist

    def _why_blocked(self, function: int, payload: bytes) -> _Blocked | None:
        """Why a request may not pass (None: it may). ``payload`` is its PDU."""
        if function in READ_FUNCTIONS:
            return None
        if function == ENCAPSULATED_INTERFACE:
            # The MEI type decides. A PDU too short to carry one is a malformed request
            # of this function (0x03), not another function.
            if len(payload) < 2 or payload[1] == READ_DEVICE_IDENTIFICATION:
                return None
            return _Blocked.FUNCTION
        if function in WRITE_FUNCTIONS:
            return None if self.allow_writes else _Blocked.WRITE
        return _Blocked.FUNCTION

    def _refuse(self, request: _Request, host: str) -> ModbusPDU:
        """Count and log (once per client address and function) a request not allowed."""
        self.stats.rejected += 1
        if request.blocked is _Blocked.WRITE:
            self.stats.writes_refused += 1
            why = "writes through the gateway are off (allow_writes)"
        else:
            self.stats.functions_refused += 1
            allowed = "reads (01-04, 43/14)"
            if self.allow_writes:
                allowed += " and writes (05, 06, 15, 16, 22, 23)"
            why = f"the gateway forwards only {allowed}"
        key = (host, request.function_name)
        if key in self._logged_refusals or len(self._logged_refusals) >= _MAX_LOGGED_REFUSALS:
            _LOGGER.debug("Modbus gateway: refused %s from %s", request.function_name, host)
        else:
            self._logged_refusals.add(key)
            self._record(
                BridgeEvent(
                    EventType.COMMAND,
                    time.time(),
                    data={
                        "command": f"gateway {request.function_name}",
                        "outcome": "refused",
                        "reason": "writes_disabled"
                        if request.blocked is _Blocked.WRITE
                        else "function_not_allowed",
                        "message": f"{why}; answered exception 01, nothing was sent",
                        "unit": request.unit,
                        "who": f"modbus gateway client {host}",
                    },
                )
            )
            _LOGGER.warning(
                "Modbus gateway: refused %s from %s: %s; answered exception 01 (illegal "
                "function), nothing was sent. Further ones from %s are logged at debug level",
                request.function_name,
                host,
                why,
                host,
            )
        return _exception(request, ILLEGAL_FUNCTION)

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
            return GATEWAY_PATH_UNAVAILABLE
        buses = self._routes.get(unit)
        if buses is None:
            if len(self.buses) == 1:
                return self.buses[0]
            return GATEWAY_NO_RESPONSE
        if len(buses) > 1:
            return GATEWAY_PATH_UNAVAILABLE
        return buses[0]

    async def _handle(self, request: _Request, peer: str, host: str) -> ModbusPDU:
        """The answer to one request: the device's, or an exception."""
        if request.blocked is not None:
            return self._refuse(request, host)
        if request.refusal is not None or request.pdu is None:
            self.stats.rejected += 1
            return _exception(request, request.refusal or ILLEGAL_FUNCTION)
        route = self._route(request.unit)
        if not isinstance(route, Bus):
            if route == GATEWAY_NO_RESPONSE:
                self.stats.timeouts += 1
            else:
                self.stats.unavailable += 1
            return _exception(request, route)
        bus = route
        name = bus.settings.id
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
            return _exception(request, ILLEGAL_FUNCTION)
        except DeviceTimeout:
            self.stats.timeouts += 1
            return _exception(request, GATEWAY_NO_RESPONSE)
        except BusBusy as exc:
            self.stats.unavailable += 1
            self._problem(
                f"busy:{name}", "Modbus gateway: bus %s is busy (%s); answering 0x0A", name, exc
            )
            return _exception(request, GATEWAY_PATH_UNAVAILABLE)
        except BusError as exc:
            self.stats.unavailable += 1
            self._problem(
                f"down:{name}", "Modbus gateway: bus %s is down (%s); answering 0x0A", name, exc
            )
            return _exception(request, GATEWAY_PATH_UNAVAILABLE)
        except ValueError as exc:
            # pymodbus could not carry this request (ModbusTransport.execute): the line is
            # fine, only this request failed.
            self.stats.failed += 1
            self._problem(
                f"unsendable:{name}:{request.function_name}",
                "Modbus gateway: %s could not be sent on bus %s (%s); answering 0x04",
                request.function_name,
                name,
                exc,
            )
            return _exception(request, DEVICE_FAILURE)
        except Exception as exc:
            self.stats.failed += 1
            self._error_once(
                f"error:{name}", exc, "Modbus gateway: forwarding to bus %s failed", name
            )
            return _exception(request, DEVICE_FAILURE)
        for key in (f"busy:{name}", f"down:{name}", f"error:{name}"):
            self._solved(key, "Modbus gateway: bus %s answers again", name)
        self.stats.forwarded += 1
        return readdress_response(response, request.unit, request.transaction_id)

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

    def _evict_idlest(self, listener: str, peer: str) -> bool:
        """Close the connection idle longest, if idle at least the grace; whether one was."""
        now = asyncio.get_running_loop().time()
        idle_enough = [
            (idle, task, connection)
            for task, connection in self._connections.items()
            if (idle := connection.idle_for(now)) is not None and idle >= self.eviction_grace
        ]
        if not idle_enough:
            return False
        idle, task, connection = max(idle_enough, key=lambda candidate: candidate[0])
        # Out of the count now, so that the new client takes its slot; the task's own
        # clean-up closes the socket.
        del self._connections[task]
        task.cancel()
        self._evicted.add(task)
        task.add_done_callback(self._evicted.discard)
        self.stats.evicted += 1
        self._problem(
            "evicting",
            "Modbus gateway: all %d connections (max_clients) are open; closed %s, idle "
            "for %.0f s, to let a %s client from %s in",
            self.max_clients,
            connection.peer,
            idle,
            listener,
            peer,
        )
        return True

    async def _accept(
        self, kind: Framing, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        peer, host = _peer(writer)
        listener = kind.value
        if len(self._connections) >= self.max_clients and not self._evict_idlest(listener, peer):
            self.stats.refused += 1
            self._problem(
                "full",
                "Modbus gateway: refused a %s client from %s: %d clients are connected, the "
                "limit (max_clients), and none has been idle for %g s",
                listener,
                peer,
                len(self._connections),
                self.eviction_grace,
            )
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return
        task = asyncio.current_task()
        assert task is not None  # asyncio runs each client callback in its own task
        connection = _Connection(self, kind, reader, writer, peer, host)
        self._connections[task] = connection
        self.stats.accepted += 1
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        _LOGGER.debug("Modbus gateway: %s client %s connected", listener, peer)
        try:
            await connection.serve()
        finally:
            self._connections.pop(task, None)
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
                self._solved("evicting", "Modbus gateway: connections below max_clients again")


class _Connection:
    """One client: a reader that frames requests, a writer that answers them in order."""

    def __init__(
        self,
        gateway: Gateway,
        kind: Framing,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        peer: str,
        host: str,
    ) -> None:
        self.gateway = gateway
        self.kind = kind
        self.reader = reader
        self.writer = writer
        self.peer = peer
        self.host = host
        self.codec = RequestCodec(kind)
        self.received = 0
        self.answered = 0
        #: Loop time of the last complete request or answer (or of the connection).
        self.last_active = asyncio.get_running_loop().time()

    def idle_for(self, now: float) -> float | None:
        """Seconds since the last request or answer; None while a request is unanswered."""
        if self.received > self.answered:
            return None
        return now - self.last_active

    async def serve(self) -> None:
        """Read and answer until the client leaves; then drop what it left behind."""
        requests: asyncio.Queue[_Request | None] = asyncio.Queue(self.gateway.max_pipelined)
        reading = asyncio.create_task(self._read(requests))
        answering = asyncio.create_task(self._answer(requests))
        try:
            await asyncio.wait({reading, answering}, return_when=asyncio.FIRST_COMPLETED)
            # After a framing error, _read queued an end mark behind the requests it read:
            # answer those, then the answering task returns (or fails if the client left).
            if _finished_true(reading):
                await asyncio.wait({answering})
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
        """The client's next bytes; b"" when it left or was idle for idle_timeout."""
        timeout = self.gateway.idle_timeout
        loop = asyncio.get_running_loop()
        while True:
            wait: float | None = None
            if timeout is not None:
                idle = self.idle_for(loop.time())
                wait = timeout if idle is None else timeout - idle
                if wait <= 0:
                    self.gateway.stats.idle_closed += 1
                    _LOGGER.debug(
                        "Modbus gateway: closing %s, idle for %g s (idle_timeout)",
                        self.peer,
                        timeout,
                    )
                    return b""
            try:
                return await asyncio.wait_for(self.reader.read(_READ_SIZE), wait)
            except TimeoutError:
                continue  # check again: a request may have been answered meanwhile
            except ConnectionError:
                return b""

    async def _read(self, requests: asyncio.Queue[_Request | None]) -> bool:
        """Frame and queue requests until the client leaves (False: drop what is queued)
        or its Modbus TCP stream cannot be framed (True: answer what is queued, then close).
        """
        buffer = b""
        while data := await self._receive():
            buffer += data
            while buffer:
                try:
                    used, request = self._frame(buffer)
                except _FramingError as exc:
                    self.gateway.stats.framing_errors += 1
                    _LOGGER.info(
                        "Modbus gateway: closing the Modbus TCP connection of %s: %s",
                        self.peer,
                        exc,
                    )
                    await requests.put(None)
                    return True
                if not used:
                    break
                buffer = buffer[used:]
                if request is not None:
                    self.received += 1
                    self.last_active = asyncio.get_running_loop().time()
                    self.gateway.stats.requests += 1
                    await requests.put(request)  # full: stop reading, TCP pushes back
            if len(buffer) >= MAX_ADU_BYTES:
                buffer = b""  # RTU only (MBAP bounds a frame): no frame in it; hunt afresh
        return False

    def _frame(self, buffer: bytes) -> tuple[int, _Request | None]:
        """Bytes used at the head of ``buffer`` (0: wait for more) and the request found."""
        if self.kind is Framing.MBAP:
            used, unit, transaction_id, payload = _mbap_frame(buffer)
            if not used:
                return 0, None
            return used, self._request(unit, transaction_id, payload)
        start, end = self._rtu_frame(buffer)
        if not end:
            return start, None  # skip the garbage before a frame, then wait for its end
        return end, self._request(buffer[start], 0, buffer[start + 1 : end - 2])

    def _rtu_frame(self, buffer: bytes) -> tuple[int, int]:
        """Where the first RTU frame in ``buffer`` starts and ends; end 0: none complete.

        The functions the gateway forwards are sized by pymodbus and confirmed by their
        CRC, anywhere in the buffer: that is how garbage before a frame is skipped. Any
        other function is delimited by the shortest valid CRC, looked for only at the head
        of the buffer, where a client's frame starts: searching every offset of a stream of
        garbage would cost a CRC search per byte.
        """
        last_start = len(buffer) - _RTU_MIN_BYTES
        for start in range(last_start + 1):
            size = self._rtu_size(buffer[start : start + _RTU_MAX_BYTES])
            if size == 0:
                return start, 0  # a forwarded function, not all of it here yet
            if size is None:
                if start == 0 and (size := shortest_crc_frame(buffer, _RTU_MAX_BYTES)):
                    return 0, size
                continue
            if len(buffer) - start < size:
                return start, 0
            if crc_ok(buffer[start : start + size]):
                return start, start + size
        return max(0, last_start + 1), 0  # keep a tail short enough to start a frame

    def _rtu_size(self, data: bytes) -> int | None:
        """The RTU size of a request of a function the gateway may forward (0: need more
        bytes to tell); None for any other function, or if pymodbus cannot size it."""
        function = data[1]
        if function not in READ_FUNCTIONS | WRITE_FUNCTIONS | {ENCAPSULATED_INTERFACE}:
            return None
        return self.codec.rtu_size(data)

    def _request(self, unit: int, transaction_id: int, payload: bytes) -> _Request:
        """What to do with one framed PDU: forward it, or answer an exception."""
        function = payload[0]
        name = _function_name(function, payload)
        blocked = self.gateway._why_blocked(function, payload)
        if blocked is not None:
            return _Request(
                unit, transaction_id, function, None, blocked=blocked, function_name=name
            )
        pdu = self.codec.decode_request(payload, unit, transaction_id)
        if pdu is None:
            return _Request(unit, transaction_id, function, None, ILLEGAL_VALUE, function_name=name)
        return _Request(unit, transaction_id, function, pdu, function_name=name)

    async def _answer(self, requests: asyncio.Queue[_Request | None]) -> None:
        while (request := await requests.get()) is not None:
            response = await self.gateway._handle(request, self.peer, self.host)
            try:
                frame = self.codec.build_frame(response)
            except Exception as exc:  # an answer pymodbus decoded but cannot encode again
                self.gateway.stats.failed += 1
                self.gateway._error_once(
                    f"encode:{request.function_name}",
                    exc,
                    "Modbus gateway: the answer to %s cannot be passed on; answering 0x04",
                    request.function_name,
                )
                frame = self.codec.build_frame(_exception(request, DEVICE_FAILURE))
            self.writer.write(frame)
            try:
                await asyncio.wait_for(self.writer.drain(), self.gateway.idle_timeout)
            except TimeoutError:
                # A client that does not take its answers would otherwise hold its slot
                # for good: it is never idle (an answer is pending), so never evicted.
                self.gateway.stats.idle_closed += 1
                _LOGGER.debug(
                    "Modbus gateway: closing %s: it took no answer for %g s (idle_timeout)",
                    self.peer,
                    self.gateway.idle_timeout,
                )
                raise
            self.answered += 1
            self.last_active = asyncio.get_running_loop().time()
            self.gateway.stats.answered += 1


__all__ = [
    "DEFAULT_EVICTION_GRACE",
    "DEFAULT_IDLE_TIMEOUT",
    "DEFAULT_MAX_CLIENTS",
    "DEFAULT_MAX_PIPELINED",
    "ENCAPSULATED_INTERFACE",
    "READ_DEVICE_IDENTIFICATION",
    "READ_FUNCTIONS",
    "Gateway",
    "GatewayStats",
]
