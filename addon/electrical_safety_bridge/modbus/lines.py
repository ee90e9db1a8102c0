"""The Modbus lines a bus can drive: an RS485 adapter, or an Ethernet gateway (Modbus TCP or
RTU over TCP). Plain settings, no I/O and no pymodbus, so that a configuration can be read
without the Modbus stack."""

from __future__ import annotations

from dataclasses import dataclass

from .timing import DEFAULT_FRAMING, Framing


@dataclass(frozen=True, slots=True)
class SerialLine:
    """An RS485 adapter, best named by its stable ``/dev/serial/by-id/`` path."""

    port: str
    baudrate: int = 9600
    parity: str = DEFAULT_FRAMING.parity
    stopbits: int = DEFAULT_FRAMING.stopbits
    bytesize: int = DEFAULT_FRAMING.bytesize

    @property
    def framing(self) -> Framing:
        """How its characters are framed, which times its frames."""
        return Framing(self.bytesize, self.parity, self.stopbits)

    def describe(self) -> str:
        """Human-readable summary for logs and the CLI."""
        return f"serial {self.port} {self.baudrate} {self.bytesize}{self.parity}{self.stopbits}"


@dataclass(frozen=True, slots=True)
class TcpLine:
    """An Ethernet gateway: Modbus TCP, or raw RTU frames over TCP when ``rtu`` is set.

    ``baudrate`` is the speed of the RS485 side behind the gateway, when known; response
    timeouts are derived from it.
    """

    host: str
    port: int
    rtu: bool = False
    baudrate: int | None = None

    def describe(self) -> str:
        """Human-readable summary for logs and the CLI."""
        kind = "rtu-over-tcp" if self.rtu else "tcp"
        return f"{kind} {self.host}:{self.port}"


Line = SerialLine | TcpLine


def line_for(
    *,
    tcp: str | None = None,
    rtu_over_tcp: str | None = None,
    serial: str | None = None,
    baudrate: int | None = None,
    parity: str = "N",
    stopbits: int = 1,
) -> Line:
    """Build a line from command-line style arguments."""
    if serial:
        return SerialLine(serial, baudrate=baudrate or 9600, parity=parity, stopbits=stopbits)
    target = tcp or rtu_over_tcp
    if not target or ":" not in target:
        raise ValueError("give --serial PATH, --tcp HOST:PORT or --rtu-over-tcp HOST:PORT")
    host, _, port = target.rpartition(":")
    # Behind a gateway the RS485 speed is only known if the user says it.
    return TcpLine(host.strip("[]"), int(port), rtu=rtu_over_tcp is not None, baudrate=baudrate)
