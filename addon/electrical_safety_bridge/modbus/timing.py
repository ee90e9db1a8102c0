"""How long Modbus RTU frames take on an RS-485 line. Pure arithmetic, no I/O.

The bus engine derives its timeouts from these numbers and the simulator delays its
responses by them, so that both agree on what "a real bus at 9600 baud" means.

Formulas (Modbus over Serial Line V1.02, §2.5.1.1):

* One character is ``bits_per_char`` bits on the wire: 1 start bit, 8 data bits, a parity
  bit or a second stop bit, and 1 stop bit = **11 bits** in the standard RTU character.
  A line configured 8N1 (no parity, one stop bit), as Acrel devices ship, sends 10 bits.
  :class:`Framing` is the one definition of a line's character: the bridge's serial line
  (``SerialLine.framing``) and the simulator (``SimulatedBus(framing=...)``) both time
  their frames by its :attr:`Framing.bits_per_char`, so the bridge's line-busy figures
  and the simulated line agree. Both default to :data:`DEFAULT_FRAMING`, 8N1.
* A frame of ``n`` bytes takes ``n * bits_per_char / baudrate`` seconds.
* Frames are separated by at least 3.5 character times of silence (t3.5). Above 19200
  baud the specification fixes t3.5 at 1.75 ms instead, because the character time is then
  shorter than UARTs and timers can resolve.
* A transaction is request frame + t3.5 + response frame + t3.5: the master may only send
  the next request after the silence that ends the response.

RTU frame sizes (address byte and 2-byte CRC included):

* read request (FC 03/04): address, function, start (2), count (2), CRC (2) = 8 bytes;
* read response: address, function, byte count, 2 bytes per register, CRC (2)
  = ``5 + 2 * count`` bytes;
* write single register (FC 06) request and its echo response: 8 bytes each;
* write multiple registers (FC 16) request: address, function, start (2), count (2),
  byte count, 2 bytes per register, CRC (2) = ``9 + 2 * count`` bytes; response 8 bytes;
* exception response: address, function | 0x80, exception code, CRC (2) = 5 bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

#: Bits of one character in the standard Modbus RTU frame (1 start, 8 data, parity or a
#: second stop bit, 1 stop).
STANDARD_BITS_PER_CHAR: Final = 11
#: Above this baud rate the inter-frame silence is fixed instead of 3.5 characters.
FIXED_SILENCE_ABOVE_BAUD: Final = 19200
#: The fixed inter-frame silence used above 19200 baud, in seconds.
FIXED_SILENCE_SECONDS: Final = 0.00175
#: Bytes of an exception response (address, function, code, CRC).
EXCEPTION_RESPONSE_BYTES: Final = 5


def bits_per_char(bytesize: int = 8, parity: str = "N", stopbits: int = 1) -> int:
    """Bits one character takes with these serial settings (start bit included)."""
    return 1 + bytesize + (0 if parity.upper() == "N" else 1) + stopbits


@dataclass(frozen=True, slots=True)
class Framing:
    """How one character is framed on a serial line: data bits, parity, stop bits."""

    bytesize: int = 8
    parity: str = "N"
    stopbits: int = 1

    def __post_init__(self) -> None:
        if self.bytesize not in (7, 8):
            raise ValueError(f"data bits must be 7 or 8, not {self.bytesize}")
        if self.parity.upper() not in ("N", "E", "O"):
            raise ValueError(f"parity must be N, E or O, not {self.parity!r}")
        if self.stopbits not in (1, 2):
            raise ValueError(f"stop bits must be 1 or 2, not {self.stopbits}")

    @classmethod
    def parse(cls, text: str) -> Framing:
        """Read the usual short form, such as ``8N1`` or ``8E1``."""
        if len(text) != 3 or not text[0].isdigit() or not text[2].isdigit():
            raise ValueError(
                f"framing must look like 8N1 (data bits, parity, stop bits), not {text!r}"
            )
        return cls(int(text[0]), text[1].upper(), int(text[2]))

    @property
    def bits_per_char(self) -> int:
        """Bits one character takes on the wire (start bit included)."""
        return bits_per_char(self.bytesize, self.parity, self.stopbits)

    def __str__(self) -> str:
        return f"{self.bytesize}{self.parity.upper()}{self.stopbits}"


#: The framing a serial line has unless configured otherwise: 8N1, as Acrel devices ship.
DEFAULT_FRAMING: Final = Framing()


def frame_seconds(nbytes: int, baudrate: int, bits_per_char: int = STANDARD_BITS_PER_CHAR) -> float:
    """Seconds ``nbytes`` take on the line at ``baudrate``."""
    if baudrate <= 0:
        raise ValueError("baudrate must be positive")
    return nbytes * bits_per_char / baudrate


def silent_interval(baudrate: int, bits_per_char: int = STANDARD_BITS_PER_CHAR) -> float:
    """The t3.5 silence that delimits RTU frames, in seconds."""
    if baudrate > FIXED_SILENCE_ABOVE_BAUD:
        return FIXED_SILENCE_SECONDS
    return frame_seconds(1, baudrate, bits_per_char) * 3.5


def read_request_bytes() -> int:
    """Size of a read request (FC 03/04) RTU frame."""
    return 8


def read_response_bytes(count: int) -> int:
    """Size of the RTU response to a read of ``count`` registers."""
    return 5 + 2 * count


def write_single_request_bytes() -> int:
    """Size of a write-single-register (FC 06) RTU request."""
    return 8


def write_single_response_bytes() -> int:
    """Size of the FC 06 response, an echo of the request."""
    return 8


def write_multiple_request_bytes(count: int) -> int:
    """Size of a write-multiple-registers (FC 16) RTU request of ``count`` registers."""
    return 9 + 2 * count


def write_multiple_response_bytes() -> int:
    """Size of the FC 16 response (address and count echoed)."""
    return 8


def transaction_seconds(
    request_bytes: int,
    response_bytes: int,
    baudrate: int,
    bits_per_char: int = STANDARD_BITS_PER_CHAR,
) -> float:
    """Wire time of one request/response exchange, including both inter-frame silences.

    The device's own processing time (its turnaround) is not included: it is a property of
    the device, not of the line.
    """
    gap = silent_interval(baudrate, bits_per_char)
    return (
        frame_seconds(request_bytes, baudrate, bits_per_char)
        + gap
        + frame_seconds(response_bytes, baudrate, bits_per_char)
        + gap
    )
