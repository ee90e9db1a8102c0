"""Modbus frames and PDUs, as pymodbus builds and reads them, for the bus and the gateway.

The gateway (:mod:`..gateway.server`) and the bus scheduler work with request and response
PDUs without importing pymodbus: what they need of it is here. pymodbus does the framing,
the CRC tables and the PDU encoding and decoding; this module only puts a small surface on
it:

* :class:`RequestCodec`: one client connection's server-side decoder and framer (Modbus
  TCP's MBAP or RTU with its CRC): sizes an RTU request, decodes and checks a request PDU,
  builds the frame of an answer;
* :func:`exception_response` and the exception codes the gateway answers;
* :func:`crc_ok` and :func:`shortest_crc_frame` for RTU frames pymodbus cannot size;
* :func:`readdress_response`: a device's answer made the client's (its transaction and
  unit id), with pymodbus's device-identification object count put right;
* :func:`pdu_sizes` and :func:`write_target`: what a forwarded request costs on the line
  and which registers it writes.
"""

from __future__ import annotations

import enum
from typing import Final

from pymodbus.constants import ExcCodes
from pymodbus.framer import FramerBase, FramerRTU, FramerSocket
from pymodbus.pdu import DecodePDU, ExceptionResponse, ModbusPDU
from pymodbus.pdu.mei_message import ReadDeviceInformationRequest, ReadDeviceInformationResponse
from pymodbus.pdu.register_message import ReadWriteMultipleRegistersRequest

from . import timing

__all__ = [
    "DEVICE_FAILURE",
    "GATEWAY_NO_RESPONSE",
    "GATEWAY_PATH_UNAVAILABLE",
    "ILLEGAL_FUNCTION",
    "ILLEGAL_VALUE",
    "MAX_ADU_BYTES",
    "Framing",
    "ModbusPDU",
    "RequestCodec",
    "crc_ok",
    "exception_response",
    "pdu_sizes",
    "readdress_response",
    "shortest_crc_frame",
    "write_target",
]

#: Exception codes (Modbus application protocol v1.1b3, §7).
ILLEGAL_FUNCTION: Final[int] = ExcCodes.ILLEGAL_FUNCTION
ILLEGAL_VALUE: Final[int] = ExcCodes.ILLEGAL_VALUE
DEVICE_FAILURE: Final[int] = ExcCodes.DEVICE_FAILURE
GATEWAY_PATH_UNAVAILABLE: Final[int] = ExcCodes.GATEWAY_PATH_UNAVIABLE
GATEWAY_NO_RESPONSE: Final[int] = ExcCodes.GATEWAY_NO_RESPONSE

#: The longest frame either framing can carry (pymodbus's bound, 264 bytes). A buffer this
#: long that holds no frame holds garbage.
MAX_ADU_BYTES: Final = FramerBase.MAX_SIZE

#: Function 23, read/write multiple registers.
_READ_WRITE_MULTIPLE: Final = 23
#: Largest quantity each function allows (Modbus application protocol v1.1b3 §6.1-6.4,
#: §6.11, §6.12).
_MAX_COUNT: Final = {1: 2000, 2: 2000, 3: 125, 4: 125, 15: 1968, 16: 123}
#: Function 23 reads up to 125 registers and writes up to 121 (§6.17).
_MAX_READ_WRITE_COUNTS: Final = (125, 121)
#: Read device identification codes: basic, regular, extended, one object (§6.21).
_READ_DEVICE_ID_CODES: Final = range(1, 5)


class Framing(enum.Enum):
    """How requests are framed on a connection."""

    MBAP = "tcp"  # Modbus TCP: transaction id, protocol 0, length, unit id
    RTU = "rtu-over-tcp"  # raw RTU frames with their CRC


class RequestCodec:
    """One connection's server side: pymodbus's ``DecodePDU`` and framer for its framing.

    The caller frames (it needs each frame's length and transaction id even when the PDU
    inside cannot be decoded, to answer that request and skip exactly it); this decodes the
    PDUs and builds the answers' frames.
    """

    def __init__(self, framing: Framing) -> None:
        self._decoder = DecodePDU(is_server=True)
        self._framer: FramerBase = (
            FramerRTU(self._decoder) if framing is Framing.RTU else FramerSocket(self._decoder)
        )

    def rtu_size(self, data: bytes) -> int | None:
        """The RTU size of the request at the head of ``data`` (unit id first), as pymodbus
        computes it from its function (0: more bytes needed to tell); None if pymodbus cannot
        size it."""
        try:
            pdu_class = self._decoder.lookupPduClass(data)
            return None if pdu_class is None else int(pdu_class.calculateRtuFrameSize(data))
        except Exception:  # e.g. FC 43 without a MEI type: too short to look up
            return None

    def decode_request(self, payload: bytes, unit: int, transaction_id: int) -> ModbusPDU | None:
        """The request PDU in ``payload`` (function code first), addressed to ``unit``; None
        if it cannot be decoded, is beyond the Modbus limits, or would not reach the device
        as the client's own bytes (to be answered exception 0x03)."""
        try:
            pdu = self._decoder.decode(payload)
        except Exception:  # DecodePDU catches most; a new pymodbus may raise others
            pdu = None
        if pdu is None or pdu.isError() or not _well_formed(pdu, payload):
            return None
        pdu.dev_id = unit
        pdu.transaction_id = transaction_id
        return pdu

    def build_frame(self, pdu: ModbusPDU) -> bytes:
        """The frame of an answer, in this connection's framing."""
        return bytes(self._framer.buildFrame(pdu))


def exception_response(function_code: int, code: int, unit: int, transaction_id: int) -> ModbusPDU:
    """An exception answer to a request of ``function_code``."""
    return ExceptionResponse(function_code & 0x7F, code, device_id=unit, transaction=transaction_id)


def readdress_response(response: ModbusPDU, unit: int, transaction_id: int) -> ModbusPDU:
    """A device's answer made the client's: its transaction id and unit id put back."""
    if isinstance(response, ReadDeviceInformationResponse):
        # pymodbus's encoder counts the objects it writes on top of this field, which
        # holds the device's count once decoded: the client would read it doubled.
        response.number_of_objects = 0
    response.transaction_id = transaction_id
    response.dev_id = unit
    return response


def crc_ok(frame: bytes) -> bool:
    """Whether an RTU frame ends in the CRC of what precedes it."""
    crc = int.from_bytes(frame[-2:], "big")
    return bool(FramerRTU.check_CRC(frame[:-2], crc))


def shortest_crc_frame(data: bytes, max_bytes: int) -> int:
    """The length of the shortest RTU frame (at most ``max_bytes``) at the head of ``data``,
    judged by its CRC alone (0: none). One CRC computed byte by byte with pymodbus's table,
    so a whole search costs what checking one 256-byte frame does."""
    table = FramerRTU.crc16_table
    crc = 0xFFFF
    for index in range(min(len(data), max_bytes) - 2):
        crc = ((crc >> 8) & 0xFF) ^ table[(crc ^ data[index]) & 0xFF]
        # The CRC goes on the wire low byte first; a frame has a unit id and a function.
        if index >= 1 and data[index + 1] == crc & 0xFF and data[index + 2] == crc >> 8:
            return index + 3
    return 0


def _well_formed(pdu: ModbusPDU, payload: bytes) -> bool:
    """Whether pymodbus would send exactly the client's PDU, within the Modbus limits."""
    try:
        # A request that does not encode back to its own bytes would reach the device
        # changed: pymodbus decodes a coil value of 0x1234 as "on" and sends 0xFF00, and
        # re-counts a byte count that disagrees with the quantity.
        if bytes([pdu.function_code]) + pdu.encode() != payload:
            return False
    except Exception:  # pymodbus's encoders raise ValueError, struct.error and its own
        return False
    limit = _MAX_COUNT.get(pdu.function_code)
    if limit is not None and not 1 <= pdu.count <= limit:
        return False
    if isinstance(pdu, ReadWriteMultipleRegistersRequest):
        most_read, most_written = _MAX_READ_WRITE_COUNTS
        return 1 <= pdu.read_count <= most_read and 1 <= pdu.write_count <= most_written
    if isinstance(pdu, ReadDeviceInformationRequest):
        return pdu.read_code in _READ_DEVICE_ID_CODES
    return True


def write_target(request: ModbusPDU) -> tuple[int, int]:
    """First register and count a write request writes to.

    Function 23 (read/write multiple registers) keeps its write in ``write_address`` and
    ``write_registers``; its ``address`` is the read's. Coil writes count one per coil.
    """
    if request.function_code == _READ_WRITE_MULTIPLE:
        written = getattr(request, "write_registers", None) or [0]
        return int(getattr(request, "write_address", 0)), max(1, len(written))
    values = getattr(request, "registers", None) or getattr(request, "bits", None) or [0]
    return int(getattr(request, "address", 0)), max(1, len(values))


def pdu_sizes(request: ModbusPDU) -> tuple[int, int]:
    """RTU request and expected response sizes of a request PDU, for its timeout.

    Reads and writes of registers are sized exactly; other functions are sized from the
    request (address, PDU and CRC) with the largest response a read may have, which keeps
    their timeout safe without knowing the function.
    """
    function = request.function_code
    count = int(getattr(request, "count", 0) or 0)
    registers = list(getattr(request, "registers", None) or [])
    if function in (3, 4):
        return timing.read_request_bytes(), timing.read_response_bytes(count)
    if function == 6:
        return timing.write_single_request_bytes(), timing.write_single_response_bytes()
    if function == 16:
        return (
            timing.write_multiple_request_bytes(len(registers)),
            timing.write_multiple_response_bytes(),
        )
    request_bytes = 3 + len(request.encode()) + 1
    return request_bytes, timing.read_response_bytes(125)
