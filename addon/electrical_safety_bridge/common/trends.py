"""Early warning on the wire: each residual-current and temperature channel's baseline, and
whether its level is rising towards the alarm setpoint (``GET /api/v1/early-warnings``;
the ``early_warning`` and ``early_warning_cleared`` events carry the same fields).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .enums import ChannelKind
from .json_schema import wire
from .parsing import _extra, _int, _number, _opt_str, _str, enum_or_str


@dataclass(frozen=True, slots=True)
class ChannelTrend:
    """One channel's baseline: its daily level, its slope over days, and the warning."""

    _KNOWN: ClassVar[frozenset[str]] = frozenset(
        {
            "device_id",
            "channel",
            "kind",
            "unit",
            "setpoint",
            "level",
            "slope_per_day",
            "days_to_setpoint",
            "days_observed",
            "days_needed",
            "warning",
            "since",
        }
    )

    device_id: str
    channel: str
    #: A ``ChannelKind``: residual_current or temperature.
    kind: str = field(metadata=wire(enum=ChannelKind))
    unit: str | None
    #: The alarm setpoint the projection aims at; None while it has not been read.
    setpoint: float | None
    #: The recent daily level (the median of the last three days' levels).
    level: float | None
    slope_per_day: float | None
    #: Projected days until the level reaches the setpoint; None when it is not rising.
    days_to_setpoint: float | None
    #: Days with enough readings so far, and how many a warning needs.
    days_observed: int
    days_needed: int
    #: Whether the "rising leakage" or "rising temperature" warning is on.
    warning: bool
    #: When the warning started (seconds since the epoch); None when it is off.
    since: float | None
    extra: Mapping[str, Any] = field(
        default_factory=dict, compare=False, metadata=wire(additional=True)
    )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ChannelTrend:
        """Parse one channel of ``GET /early-warnings`` (or an early-warning event's data)."""
        return cls(
            device_id=_str(raw, "device_id"),
            channel=_str(raw, "channel"),
            kind=enum_or_str(ChannelKind, _str(raw, "kind")),
            unit=_opt_str(raw, "unit"),
            setpoint=_number(raw, "setpoint"),
            level=_number(raw, "level"),
            slope_per_day=_number(raw, "slope_per_day"),
            days_to_setpoint=_number(raw, "days_to_setpoint"),
            days_observed=_int(raw, "days_observed") or 0,
            days_needed=_int(raw, "days_needed") or 0,
            warning=raw.get("warning") is True,
            since=_number(raw, "since"),
            extra=_extra(raw, cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form."""
        return {
            "device_id": self.device_id,
            "channel": self.channel,
            "kind": str(self.kind),
            "unit": self.unit,
            "setpoint": self.setpoint,
            "level": self.level,
            "slope_per_day": self.slope_per_day,
            "days_to_setpoint": self.days_to_setpoint,
            "days_observed": self.days_observed,
            "days_needed": self.days_needed,
            "warning": self.warning,
            "since": self.since,
            **self.extra,
        }


TREND_MODELS: tuple[type[Any], ...] = (ChannelTrend,)
