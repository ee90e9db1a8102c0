"""The edge where the bridge meets a Modbus line: serial RTU, Modbus TCP or RTU over TCP.

pymodbus does all framing and CRC. This module turns its results into the bridge's own
errors: :class:`DeviceTimeout` (a unit was silent), :class:`DeviceException` (a unit said
no) and :class:`BusError` (the line itself is gone). pymodbus's own retries and reconnects
are switched off: the bus engine decides when to try again, because a write must never be
repeated behind its back.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from pymodbus import FramerType
from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException
from pymodbus.pdu import DecodePDU, ModbusPDU

from ..errors import BusError, DeviceException, DeviceTimeout
from .lines import Line, SerialLine, TcpLine


class Transport(Protocol):
    """What the bus engine needs from a line."""

    @property
    def connected(self) -> bool:
        """Whether the line is open."""
        ...

    async def open(self) -> None:
        """Open the line, or raise BusError."""
        ...

    def close(self) -> None:
        """Close the line."""
        ...

    async def read(
        self, unit: int, function: int, address: int, count: int, response_timeout: float
    ) -> list[int]:
        """Read registers with function 03 or 04."""
        ...

    async def write(
        self, unit: int, function: int, address: int, values: list[int], response_timeout: float
    ) -> None:
        """Write registers with function 06 (one register) or 16."""
        ...

    async def execute(self, request: ModbusPDU, response_timeout: float) -> ModbusPDU:
        """Send any request PDU once and return the response PDU, exception replies included."""
        ...


class ModbusTransport:
    """One pymodbus client for one line."""

    def __init__(self, line: Line) -> None:
        self.line = line
        self._client: AsyncModbusSerialClient | AsyncModbusTcpClient | None = None

    def _new_client(self) -> AsyncModbusSerialClient | AsyncModbusTcpClient:
        line = self.line
        if isinstance(line, SerialLine):
            return AsyncModbusSerialClient(
                line.port,
                framer=FramerType.RTU,
                baudrate=line.baudrate,
                bytesize=line.bytesize,
                parity=line.parity,
                stopbits=line.stopbits,
                retries=0,
                reconnect_delay=0,
            )
        return AsyncModbusTcpClient(
            line.host,
            port=line.port,
            framer=FramerType.RTU if line.rtu else FramerType.SOCKET,
            retries=0,
            reconnect_delay=0,
            timeout=2.0,
        )

    @property
    def connected(self) -> bool:
        """Whether the line is open."""
        return self._client is not None and self._client.connected

    async def open(self) -> None:
        """Open the line. A vanished serial adapter or a refused gateway raises BusError."""
        self.close()
        line = self.line
        client = self._new_client()
        try:
            opened = await client.connect()
        except (OSError, ModbusException) as exc:
            opened = False
            reason = str(exc)
        else:
            reason = (
                "the port is missing or busy (unplugged?)"
                if isinstance(line, SerialLine)
                else "connection refused or timed out"
            )
        if not opened:
            client.close()
            raise BusError(f"{line.describe()}: cannot open: {reason}")
        self._client = client

    def close(self) -> None:
        """Close the line; safe to call twice."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def _ready(self, response_timeout: float) -> AsyncModbusSerialClient | AsyncModbusTcpClient:
        client = self._client
        if client is None or not client.connected:
            raise BusError(f"{self.line.describe()}: the line is not open")
        # pymodbus takes the response timeout from the client's parameters; the engine
        # gives each transaction its own, derived from the frame length and baud rate.
        client.ctx.comm_params.timeout_connect = response_timeout
        return client

    @property
    def _frames_have_no_id(self) -> bool:
        """RTU frames (serial, or over TCP) carry no transaction id; Modbus TCP's do."""
        return isinstance(self.line, SerialLine) or (
            isinstance(self.line, TcpLine) and self.line.rtu
        )

    async def _let_late_answers_pass(self, response_timeout: float) -> None:
        """After a unit's silence on an RTU line, keep the line quiet one response timeout more.

        An RTU answer has no transaction id, and pymodbus matches an answer to the waiting
        request by its unit id alone: a slow unit's answer that comes after its timeout would
        be taken for the answer to the next request, and one register's value decoded as
        another's (the fault matrix saw a residual current of 20 mA read as a status of
        "broken line"). Whatever arrives while the line is held quiet finds no request waiting
        and is dropped; libmodbus recovers from a timeout the same way.
        """
        if self._frames_have_no_id:
            await asyncio.sleep(response_timeout)

    async def _execute(
        self, unit: int, function: int, request: object, response_timeout: float
    ) -> ModbusPDU:
        try:
            response: ModbusPDU = await request  # type: ignore[misc]
        except ModbusIOException as exc:
            await self._let_late_answers_pass(response_timeout)
            raise DeviceTimeout(f"unit {unit} did not answer function {function:#04x}") from exc
        except ConnectionException as exc:
            self.close()
            raise BusError(f"{self.line.describe()}: connection lost") from exc
        except (OSError, ModbusException) as exc:
            self.close()
            raise BusError(f"{self.line.describe()}: {exc}") from exc
        if response.function_code & 0x7F != function:
            # Another request's late answer (pymodbus does not compare functions).
            await self._let_late_answers_pass(response_timeout)
            raise DeviceTimeout(
                f"unit {unit} answered function {response.function_code:#04x}"
                f" to function {function:#04x}"
            )
        if response.isError():
            raise DeviceException(unit, function, int(getattr(response, "exception_code", 0)))
        return response

    async def read(
        self, unit: int, function: int, address: int, count: int, response_timeout: float
    ) -> list[int]:
        """Read ``count`` registers; function 03 (holding) or 04 (input)."""
        client = self._ready(response_timeout)
        reader = client.read_input_registers if function == 4 else client.read_holding_registers
        response = await self._execute(
            unit, function, reader(address, count=count, device_id=unit), response_timeout
        )
        registers = list(response.registers)
        if len(registers) != count:
            await self._let_late_answers_pass(response_timeout)  # another request's answer
            raise DeviceTimeout(f"unit {unit} answered {len(registers)} registers, not {count}")
        return registers

    async def write(
        self, unit: int, function: int, address: int, values: list[int], response_timeout: float
    ) -> None:
        """Write registers once. Never retried here: the caller reads back to verify."""
        client = self._ready(response_timeout)
        if function == 6:
            if len(values) != 1:
                raise ValueError("function 06 writes exactly one register")
            request = client.write_register(address, values[0], device_id=unit)
        else:
            request = client.write_registers(address, values, device_id=unit)
        await self._execute(unit, function, request, response_timeout)

    async def execute(self, request: ModbusPDU, response_timeout: float) -> ModbusPDU:
        """Send any request PDU once; an exception reply is returned, not raised.

        Used by the gateway, which hands the device's own answer back to its client.
        Only a lost connection closes the line (BusError). A failure that belongs to this
        one request raises ValueError and leaves the line open: a request pymodbus cannot
        encode, or whose encoding would not decode back to the same request (the device
        would get something else: FC 43 with an MEI type pymodbus does not know is sent
        as a bare function code), is refused before anything is sent; anything else
        pymodbus raises while the line stays connected is that request's failure too.
        """
        client = self._ready(response_timeout)
        function = request.function_code
        try:
            payload = bytes([function]) + request.encode()
            echo = DecodePDU(is_server=True).decode(payload)
            faithful = (
                echo is not None
                and type(echo) is type(request)
                and bytes([function]) + echo.encode() == payload
            )
        except Exception as exc:  # pymodbus's encoders raise ValueError, struct.error, ...
            raise ValueError(f"function {function:#04x}: pymodbus cannot encode it: {exc}") from exc
        if not faithful:
            raise ValueError(
                f"function {function:#04x}: pymodbus cannot send this request as it is"
            )
        try:
            response: ModbusPDU = await client.execute(False, request)
        except ModbusIOException as exc:
            await self._let_late_answers_pass(response_timeout)
            raise DeviceTimeout(f"unit {request.dev_id} did not answer") from exc
        except (OSError, ConnectionException) as exc:
            self.close()
            raise BusError(f"{self.line.describe()}: {exc}") from exc
        except Exception as exc:
            if not client.connected:
                self.close()
                raise BusError(f"{self.line.describe()}: {exc}") from exc
            raise ValueError(f"function {function:#04x} to unit {request.dev_id}: {exc}") from exc
        return response
