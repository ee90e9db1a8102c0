"""The workflow from alarm to resolution on the wire: hazards, their statistics, and the
maintenance lock-out of a device.

Each alarm or wiring fault the bridge latches opens a hazard: open → acknowledged →
eliminated. Eliminating needs the condition gone (the bridge checks a fresh read) and a
short note of the cause and the fix. Every step records who did it, from where, and when.
A lock-out keeps a device's breaker open while someone works on the circuit: close is
refused on every path until it is lifted or its time runs out; trip and reads still work.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .enums import AlarmKind, HazardState
from .json_schema import wire
from .parsing import _extra, _int, _list, _number, _opt_str, _str, enum_or_str

type Reading = float | int | str | bool | None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did something, and from where: a Home Assistant user ("Alice (Home Assistant)"),
    an API token's name, or a remote command's key, with the address it came from."""

    _KNOWN: ClassVar[frozenset[str]] = frozenset({"who", "source", "at"})

    who: str
    #: Where from: "home_assistant", "api", "remote", "bridge" (the bridge itself), or an
    #: address; free text for a newer bridge's sources.
    source: str | None
    at: float
    extra: Mapping[str, Any] = field(
        default_factory=dict, compare=False, metadata=wire(additional=True)
    )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Actor:
        """Parse one step's actor."""
        at = _number(raw, "at")
        if at is None:
            raise ValueError(f"'at' must be a number, not {raw.get('at')!r}")
        return cls(
            who=_str(raw, "who"),
            source=_opt_str(raw, "source"),
            at=at,
            extra=_extra(raw, cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form."""
        return {"who": self.who, "source": self.source, "at": self.at, **self.extra}


@dataclass(frozen=True, slots=True)
class Hazard:
    """One alarm or wiring fault followed to its resolution."""

    _KNOWN: ClassVar[frozenset[str]] = frozenset(
        {
            "id",
            "alarm_id",
            "kind",
            "device_id",
            "channel",
            "state",
            "opened_at",
            "value_at_alarm",
            "detail",
            "active",
            "acknowledged",
            "eliminated",
            "note",
        }
    )

    id: str
    #: The latched alarm record that opened it (``Alarm.id``).
    alarm_id: str
    #: An ``AlarmKind``: an alarm, or a wiring fault.
    kind: str = field(metadata=wire(enum=AlarmKind))
    device_id: str
    channel: str
    #: A ``HazardState``.
    state: str = field(metadata=wire(enum=HazardState))
    opened_at: float
    value_at_alarm: Reading
    detail: str | None
    #: Whether the condition is still there, as last read; None (unknown) while its device
    #: has not been read since the bridge started.
    active: bool | None
    acknowledged: Actor | None
    eliminated: Actor | None
    #: The cause and the fix, given when it was eliminated.
    note: str | None
    extra: Mapping[str, Any] = field(
        default_factory=dict, compare=False, metadata=wire(additional=True)
    )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Hazard:
        """Parse a hazard of ``GET /hazards`` or of a ``hazard`` message."""
        opened_at = _number(raw, "opened_at")
        if opened_at is None:
            raise ValueError(f"'opened_at' must be a number, not {raw.get('opened_at')!r}")
        value = raw.get("value_at_alarm")
        acknowledged = raw.get("acknowledged")
        eliminated = raw.get("eliminated")
        return cls(
            id=_str(raw, "id"),
            alarm_id=_str(raw, "alarm_id"),
            kind=enum_or_str(AlarmKind, _opt_str(raw, "kind") or AlarmKind.ALARM),
            device_id=_str(raw, "device_id"),
            channel=_str(raw, "channel"),
            state=enum_or_str(HazardState, _str(raw, "state")),
            opened_at=opened_at,
            value_at_alarm=value if isinstance(value, (int, float, str)) else None,
            detail=_opt_str(raw, "detail"),
            active=None if raw.get("active") is None else bool(raw.get("active")),
            acknowledged=Actor.from_dict(acknowledged)
            if isinstance(acknowledged, Mapping)
            else None,
            eliminated=Actor.from_dict(eliminated) if isinstance(eliminated, Mapping) else None,
            note=_opt_str(raw, "note"),
            extra=_extra(raw, cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form."""
        return {
            "id": self.id,
            "alarm_id": self.alarm_id,
            "kind": str(self.kind),
            "device_id": self.device_id,
            "channel": self.channel,
            "state": str(self.state),
            "opened_at": self.opened_at,
            "value_at_alarm": self.value_at_alarm,
            "detail": self.detail,
            "active": self.active,
            "acknowledged": None if self.acknowledged is None else self.acknowledged.to_dict(),
            "eliminated": None if self.eliminated is None else self.eliminated.to_dict(),
            "note": self.note,
            **self.extra,
        }

    @property
    def open(self) -> bool:
        """Not eliminated yet."""
        return self.state != HazardState.ELIMINATED


@dataclass(frozen=True, slots=True)
class HazardStatistics:
    """What the seed platform counts: open hazards, alarms not handled, this month's alarms
    and eliminations, and how long acknowledging and eliminating took on average."""

    _KNOWN: ClassVar[frozenset[str]] = frozenset(
        {
            "open_hazards",
            "unacknowledged_alarms",
            "alarms_this_month",
            "eliminated_this_month",
            "mean_time_to_acknowledge_s",
            "mean_time_to_eliminate_s",
            "month",
        }
    )

    #: Hazards not eliminated yet (open or acknowledged).
    open_hazards: int
    #: Hazards nobody has acknowledged yet.
    unacknowledged_alarms: int
    #: Hazards opened since the start of this month (the bridge's local time).
    alarms_this_month: int
    eliminated_this_month: int
    #: Over the hazards acknowledged (eliminated) this month; None when there were none.
    mean_time_to_acknowledge_s: float | None
    mean_time_to_eliminate_s: float | None
    #: The month counted, as "YYYY-MM".
    month: str
    extra: Mapping[str, Any] = field(
        default_factory=dict, compare=False, metadata=wire(additional=True)
    )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> HazardStatistics:
        """Parse ``GET /statistics`` (or a ``hazard`` message's ``statistics``)."""
        return cls(
            open_hazards=_int(raw, "open_hazards") or 0,
            unacknowledged_alarms=_int(raw, "unacknowledged_alarms") or 0,
            alarms_this_month=_int(raw, "alarms_this_month") or 0,
            eliminated_this_month=_int(raw, "eliminated_this_month") or 0,
            mean_time_to_acknowledge_s=_number(raw, "mean_time_to_acknowledge_s"),
            mean_time_to_eliminate_s=_number(raw, "mean_time_to_eliminate_s"),
            month=_opt_str(raw, "month") or "",
            extra=_extra(raw, cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form."""
        return {
            "open_hazards": self.open_hazards,
            "unacknowledged_alarms": self.unacknowledged_alarms,
            "alarms_this_month": self.alarms_this_month,
            "eliminated_this_month": self.eliminated_this_month,
            "mean_time_to_acknowledge_s": self.mean_time_to_acknowledge_s,
            "mean_time_to_eliminate_s": self.mean_time_to_eliminate_s,
            "month": self.month,
            **self.extra,
        }


@dataclass(frozen=True, slots=True)
class Lockout:
    """A device locked out for maintenance: who, why, since when and until when."""

    _KNOWN: ClassVar[frozenset[str]] = frozenset({"who", "source", "why", "since", "until"})

    who: str
    source: str | None
    why: str
    since: float
    #: When it ends by itself; None: until someone lifts it.
    until: float | None
    extra: Mapping[str, Any] = field(
        default_factory=dict, compare=False, metadata=wire(additional=True)
    )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Lockout:
        """Parse a device's ``lockout``."""
        since = _number(raw, "since")
        if since is None:
            raise ValueError(f"'since' must be a number, not {raw.get('since')!r}")
        return cls(
            who=_str(raw, "who"),
            source=_opt_str(raw, "source"),
            why=_opt_str(raw, "why") or "",
            since=since,
            until=_number(raw, "until"),
            extra=_extra(raw, cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form."""
        return {
            "who": self.who,
            "source": self.source,
            "why": self.why,
            "since": self.since,
            "until": self.until,
            **self.extra,
        }


def hazards_from(raw: Mapping[str, Any], key: str = "hazards") -> tuple[Hazard, ...]:
    """The hazards listed under ``key`` (a snapshot, or ``GET /hazards``)."""
    return tuple(Hazard.from_dict(h) for h in _list(raw, key) if isinstance(h, Mapping))


WORKFLOW_MODELS: tuple[type[Any], ...] = (Actor, Hazard, HazardStatistics, Lockout)
