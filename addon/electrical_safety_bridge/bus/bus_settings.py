"""How a bus is driven: its line, poll intervals and timeouts, and the detectors on it.

Plain settings, no I/O and no pymodbus (directly or through what it imports), so that a
configuration can be loaded without the Modbus stack; the scheduler (:mod:`.scheduler`)
takes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..common.enums import PollClass
from ..common.site import Installation
from ..modbus import timing
from ..modbus.lines import Line, SerialLine
from ..profiles.model import Profile

#: The longest silence before a unit is reported offline: GB 14287.1 gives a monitor 100 s
#: to report a broken link.
MAX_OFFLINE_AFTER = 100.0


@dataclass(frozen=True, slots=True)
class PollIntervals:
    """Seconds between two polls of each class."""

    alarm: float = 1.0
    telemetry: float = 10.0
    slow: float = 300.0

    def of(self, poll: PollClass) -> float:
        """The interval of one class."""
        return float(getattr(self, poll.value))


@dataclass(frozen=True, slots=True)
class BusSettings:
    """How one line is driven."""

    id: str
    line: Line
    intervals: PollIntervals = PollIntervals()
    offline_after: float = 60.0
    max_gap: int = 8
    turnaround: float = 0.1  # seconds a unit may take to start its answer
    tcp_timeout: float = 1.0  # response timeout on a TCP line of unknown baud rate
    backoff_max: float = 10.0
    reopen_max: float = 10.0
    max_queued: int = 64  # commands and gateway requests waiting for the line
    #: The shortest time between two alarm reads of one unit when the line is otherwise
    #: idle (the scheduler then reads alarm status back to back): keeps a fast line, such
    #: as Modbus TCP, from being read in a tight loop. At 9600 baud a round of more than
    #: three units takes longer anyway.
    alarm_poll_min_gap: float = 0.1

    def __post_init__(self) -> None:
        if not 0 < self.offline_after <= MAX_OFFLINE_AFTER:
            raise ValueError(f"offline_after must be in (0, {MAX_OFFLINE_AFTER:g}] seconds")

    @property
    def baudrate(self) -> int | None:
        """The RS485 speed, when known: the serial line's or the one behind a gateway."""
        return self.line.baudrate

    @property
    def bits_per_char(self) -> int:
        """Bits of one character on the RS485 side."""
        line = self.line
        if isinstance(line, SerialLine):
            return line.framing.bits_per_char
        # Behind a gateway the framing is not known: the standard 11-bit character gives
        # the longer (safer) timeouts.
        return timing.STANDARD_BITS_PER_CHAR

    def wire_seconds(self, request_bytes: int, response_bytes: int) -> float | None:
        """Wire time of one transaction, when the baud rate is known."""
        if self.baudrate is None:
            return None
        return timing.transaction_seconds(
            request_bytes, response_bytes, self.baudrate, self.bits_per_char
        )


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """One detector on a bus."""

    id: str
    unit: int
    profile: Profile
    name: str | None = None
    #: Where it is (a room): Home Assistant suggests it as the device's area.
    area: str | None = None
    #: How it is installed (CT, circuit, room), when the configuration says.
    installation: Installation | None = None
