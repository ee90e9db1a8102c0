"""What the compliance rules know of each detector: its installation, the setpoints the
bridge has read from it, and the kinds of its channels.

The engine takes these rather than the bridge's ``Device`` so that the rules stay pure and a
test states a case in a line; ``device_facts`` builds them from a ``Device``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..common.enums import ChannelKind, SetpointKind
from ..common.models import Device
from ..common.site import Installation

#: A setpoint's unit → the factor to milliamperes, for residual current.
_TO_MILLIAMPERES: dict[str, float] = {"mA": 1.0, "A": 1000.0}
#: The units a temperature setpoint is read in, for the rules: degrees Celsius.
_CELSIUS_UNITS = frozenset({"°C", "℃"})

#: The setpoint kinds the rules check.
CHECKED_SETPOINT_KINDS = frozenset(
    {SetpointKind.RESIDUAL_CURRENT_ALARM, SetpointKind.TEMPERATURE_ALARM}
)


@dataclass(frozen=True, slots=True)
class SetpointFact:
    """One alarm setpoint as the bridge knows it: its key (a finding's ``channel``), its
    ``SetpointKind``, the value last read (None: not read yet) and its unit."""

    key: str
    kind: str
    value: float | None
    unit: str | None

    def in_milliamperes(self) -> float | None:
        """The value in mA, or None when unknown or in a unit that is not a current."""
        factor = _TO_MILLIAMPERES.get(self.unit or "")
        return None if self.value is None or factor is None else self.value * factor

    def in_celsius(self) -> float | None:
        """The value in °C, or None when unknown or in another unit."""
        if self.value is None or self.unit not in _CELSIUS_UNITS:
            return None
        return self.value


@dataclass(frozen=True, slots=True)
class DeviceFacts:
    """One detector, as the rules see it."""

    device_id: str
    #: None: the configuration says nothing of how it is installed.
    installation: Installation | None
    setpoints: tuple[SetpointFact, ...] = ()
    #: ``ChannelKind`` values of its channels.
    channel_kinds: frozenset[str] = field(default_factory=frozenset)

    @property
    def watches_residual_current(self) -> bool:
        """A residual-current detector: the CT rules and the leakage setpoints apply."""
        return ChannelKind.RESIDUAL_CURRENT in self.channel_kinds

    @property
    def watches_temperature(self) -> bool:
        """A temperature detector: the temperature setpoint rules apply."""
        return ChannelKind.TEMPERATURE in self.channel_kinds

    def setpoints_of(self, kind: SetpointKind) -> tuple[SetpointFact, ...]:
        """Its setpoints of one kind, in the profile's order."""
        return tuple(s for s in self.setpoints if s.kind == kind)


def device_facts(device: Device, installation: Installation | None) -> DeviceFacts:
    """The facts of a ``Device`` of the bridge: its alarm setpoints with the values last
    read, and its channel kinds. A setpoint value that is no number (unread, or a sensor
    fault's text) is None: the rule that needs it says so."""
    setpoints = []
    for setpoint in device.setpoints:
        if setpoint.kind not in CHECKED_SETPOINT_KINDS:
            continue
        raw = device.state.setpoint_values.get(setpoint.key)
        value = float(raw) if isinstance(raw, (int, float)) and not isinstance(raw, bool) else None
        setpoints.append(SetpointFact(setpoint.key, setpoint.kind, value, setpoint.unit))
    return DeviceFacts(
        device_id=device.id,
        installation=installation,
        setpoints=tuple(setpoints),
        channel_kinds=frozenset(channel.kind for channel in device.channels),
    )
