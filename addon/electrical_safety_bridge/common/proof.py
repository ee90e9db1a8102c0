"""Proof on the wire: self-test records, the self-test schedule, and inspection records.

A landlord shows an inspector or an insurer what was tested and checked: each self-test's
result with the seconds the detector took to alarm (GB 50166-2019 §4.8.5 and the
acceptance rule quoted in reference/devices.md §5: within 30 s, 40 s for temperature), and
each periodic inspection a person filled in, with who, when, and every item's outcome.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .enums import InspectionKind, InspectionOutcome, SelfTestResult, SelfTestTrigger
from .json_schema import wire
from .parsing import _extra, _list, _number, _opt_bool, _opt_str, _str, enum_or_str


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """One thing an inspector looks at: a stable id (an inspection record keeps it), its
    text by language, the clause it restates, and the compliance rule that computes the
    same check from the configuration, if one does."""

    id: str
    text: Mapping[str, str]
    source: str
    rule_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """What ``GET /inspections`` lists as the checklist."""
        return {
            "id": self.id,
            "text": dict(self.text),
            "source": self.source,
            "rule_id": self.rule_id,
        }


@dataclass(frozen=True, slots=True)
class Checklist:
    """The items of one kind of inspection, and how often it is due (None: once)."""

    kind: InspectionKind
    every_days: float | None
    items: tuple[ChecklistItem, ...]
    source: str

    def to_dict(self) -> dict[str, Any]:
        """The wire form of a checklist (plain JSON)."""
        return {
            "kind": self.kind.value,
            "every_days": self.every_days,
            "source": self.source,
            "items": [item.to_dict() for item in self.items],
        }


@dataclass(frozen=True, slots=True)
class SelfTestRecord:
    """One self-test: started by the schedule or a person, and how it ended."""

    _KNOWN: ClassVar[frozenset[str]] = frozenset(
        {
            "id",
            "device_id",
            "result",
            "trigger",
            "at",
            "due_at",
            "started_at",
            "seconds_to_alarm",
            "time_limit_s",
            "channel",
            "who",
            "message",
        }
    )

    id: str
    device_id: str
    #: A ``SelfTestResult``: pass, fail, no_response, or missed (due and not run).
    result: str = field(metadata=wire(enum=SelfTestResult))
    #: A ``SelfTestTrigger``.
    trigger: str = field(metadata=wire(enum=SelfTestTrigger))
    #: When the result was known (seconds since the epoch).
    at: float
    #: The scheduled time it was due, for a scheduled test (or a missed one).
    due_at: float | None
    #: When the test command was written; None for a missed test.
    started_at: float | None
    #: Seconds from the test command to the alarm read back; None without an alarm.
    seconds_to_alarm: float | None
    #: The standard's time the alarm had to come within (30 s; 40 s for temperature).
    time_limit_s: float
    #: The channel whose alarm answered the test.
    channel: str | None
    #: Who started it ("bridge" for the schedule).
    who: str | None
    #: Why, in a few words, for a person (English; clients translate from ``result``).
    message: str = ""
    extra: Mapping[str, Any] = field(
        default_factory=dict, compare=False, metadata=wire(additional=True)
    )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> SelfTestRecord:
        """Parse one record of ``GET /self-tests`` (or a self-test event's data)."""
        at = _number(raw, "at")
        if at is None:
            raise ValueError(f"'at' must be a number, not {raw.get('at')!r}")
        return cls(
            id=_str(raw, "id"),
            device_id=_str(raw, "device_id"),
            result=enum_or_str(SelfTestResult, _str(raw, "result")),
            trigger=enum_or_str(SelfTestTrigger, _opt_str(raw, "trigger") or "manual"),
            at=at,
            due_at=_number(raw, "due_at"),
            started_at=_number(raw, "started_at"),
            seconds_to_alarm=_number(raw, "seconds_to_alarm"),
            time_limit_s=_number(raw, "time_limit_s") or 0.0,
            channel=_opt_str(raw, "channel"),
            who=_opt_str(raw, "who"),
            message=_opt_str(raw, "message") or "",
            extra=_extra(raw, cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form."""
        return {
            "id": self.id,
            "device_id": self.device_id,
            "result": str(self.result),
            "trigger": str(self.trigger),
            "at": self.at,
            "due_at": self.due_at,
            "started_at": self.started_at,
            "seconds_to_alarm": self.seconds_to_alarm,
            "time_limit_s": self.time_limit_s,
            "channel": self.channel,
            "who": self.who,
            "message": self.message,
            **self.extra,
        }


@dataclass(frozen=True, slots=True)
class SelfTestScheduleEntry:
    """One device's self-test schedule: whether it runs, how often, and when it is due."""

    _KNOWN: ClassVar[frozenset[str]] = frozenset(
        {"device_id", "enabled", "reason", "every_days", "at", "next_due", "pending", "last"}
    )

    device_id: str
    #: False when the bridge never runs it: the profile is unverified (never written to),
    #: the device has no self-test command, or the configuration turns it off.
    enabled: bool
    #: Why it is off (``unverified_profile``, ``no_self_test_command``, ``disabled``).
    reason: str | None
    every_days: float
    #: The local time of day a test is due ("10:00").
    at: str
    #: The next time it is due (seconds since the epoch); None when off.
    next_due: float | None
    #: A test that was missed (or due while the bridge was down) waits to run as soon as
    #: the device answers again.
    pending: bool
    last: SelfTestRecord | None
    extra: Mapping[str, Any] = field(
        default_factory=dict, compare=False, metadata=wire(additional=True)
    )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> SelfTestScheduleEntry:
        """Parse one entry of ``GET /self-tests/schedule``."""
        last = raw.get("last")
        return cls(
            device_id=_str(raw, "device_id"),
            enabled=_opt_bool(raw, "enabled") is True,
            reason=_opt_str(raw, "reason"),
            every_days=_number(raw, "every_days") or 0.0,
            at=_opt_str(raw, "at") or "",
            next_due=_number(raw, "next_due"),
            pending=_opt_bool(raw, "pending") is True,
            last=SelfTestRecord.from_dict(last) if isinstance(last, Mapping) else None,
            extra=_extra(raw, cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form."""
        return {
            "device_id": self.device_id,
            "enabled": self.enabled,
            "reason": self.reason,
            "every_days": self.every_days,
            "at": self.at,
            "next_due": self.next_due,
            "pending": self.pending,
            "last": None if self.last is None else self.last.to_dict(),
            **self.extra,
        }


@dataclass(frozen=True, slots=True)
class InspectionItemResult:
    """What the inspector found for one checklist item."""

    _KNOWN: ClassVar[frozenset[str]] = frozenset({"id", "outcome", "note"})

    #: The checklist item's stable id (``safety/inspections.py``).
    id: str
    #: An ``InspectionOutcome``.
    outcome: str = field(metadata=wire(enum=InspectionOutcome))
    note: str = ""
    extra: Mapping[str, Any] = field(
        default_factory=dict, compare=False, metadata=wire(additional=True)
    )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> InspectionItemResult:
        """Parse one item of an inspection record."""
        return cls(
            id=_str(raw, "id"),
            outcome=enum_or_str(InspectionOutcome, _str(raw, "outcome")),
            note=_opt_str(raw, "note") or "",
            extra=_extra(raw, cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form."""
        return {"id": self.id, "outcome": str(self.outcome), "note": self.note, **self.extra}


@dataclass(frozen=True, slots=True)
class InspectionRecord:
    """One inspection a person recorded: which checklist, who, when, every item's outcome."""

    _KNOWN: ClassVar[frozenset[str]] = frozenset({"id", "kind", "at", "who", "items", "note"})

    id: str
    #: An ``InspectionKind``.
    kind: str = field(metadata=wire(enum=InspectionKind))
    at: float
    who: str
    items: tuple[InspectionItemResult, ...]
    note: str = ""
    extra: Mapping[str, Any] = field(
        default_factory=dict, compare=False, metadata=wire(additional=True)
    )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> InspectionRecord:
        """Parse one record of ``GET /inspections``."""
        at = _number(raw, "at")
        if at is None:
            raise ValueError(f"'at' must be a number, not {raw.get('at')!r}")
        return cls(
            id=_str(raw, "id"),
            kind=enum_or_str(InspectionKind, _str(raw, "kind")),
            at=at,
            who=_str(raw, "who"),
            items=tuple(
                InspectionItemResult.from_dict(item)
                for item in _list(raw, "items")
                if isinstance(item, Mapping)
            ),
            note=_opt_str(raw, "note") or "",
            extra=_extra(raw, cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form."""
        return {
            "id": self.id,
            "kind": str(self.kind),
            "at": self.at,
            "who": self.who,
            "items": [item.to_dict() for item in self.items],
            "note": self.note,
            **self.extra,
        }


@dataclass(frozen=True, slots=True)
class InspectionDue:
    """When an inspection of one kind is next due, and whether it is overdue."""

    _KNOWN: ClassVar[frozenset[str]] = frozenset(
        {"kind", "every_days", "last_at", "due_at", "overdue"}
    )

    #: An ``InspectionKind``.
    kind: str = field(metadata=wire(enum=InspectionKind))
    every_days: float
    #: The last inspection of this kind; None when there was none.
    last_at: float | None
    #: When the next one is due: the last one plus the interval; for a kind never
    #: recorded, the interval counted from when the bridge first ran.
    due_at: float
    overdue: bool
    extra: Mapping[str, Any] = field(
        default_factory=dict, compare=False, metadata=wire(additional=True)
    )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> InspectionDue:
        """Parse one entry of ``GET /inspections/due``."""
        due_at = _number(raw, "due_at")
        if due_at is None:
            raise ValueError(f"'due_at' must be a number, not {raw.get('due_at')!r}")
        return cls(
            kind=enum_or_str(InspectionKind, _str(raw, "kind")),
            every_days=_number(raw, "every_days") or 0.0,
            last_at=_number(raw, "last_at"),
            due_at=due_at,
            overdue=_opt_bool(raw, "overdue") is True,
            extra=_extra(raw, cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form."""
        return {
            "kind": str(self.kind),
            "every_days": self.every_days,
            "last_at": self.last_at,
            "due_at": self.due_at,
            "overdue": self.overdue,
            **self.extra,
        }


PROOF_MODELS: tuple[type[Any], ...] = (
    SelfTestRecord,
    SelfTestScheduleEntry,
    InspectionItemResult,
    InspectionRecord,
    InspectionDue,
)
