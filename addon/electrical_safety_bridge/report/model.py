"""What a safety report holds: one dataclass of sections, each a plain, JSON-ready value.

The same :class:`SafetyReport` becomes the API's JSON, the HTML page and the PDF, so the
numbers a person reads are the numbers a program reads. Times are seconds since the epoch
(the renderers show them in the period's time zone); values keep the unit they were read in.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any

#: Bumped when a field changes meaning or goes away (new fields do not bump it).
REPORT_SCHEMA = 1

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class ReportFormat(StrEnum):
    """What ``GET /api/v1/report`` answers with."""

    JSON = "json"
    HTML = "html"
    PDF = "pdf"


CONTENT_TYPES = {
    ReportFormat.JSON: "application/json",
    ReportFormat.HTML: "text/html",
    ReportFormat.PDF: "application/pdf",
}


class InvalidPeriod(ValueError):
    """A period the report cannot cover; the message says what was given and why."""


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    """``start <= at < end``, named by ``label`` (``2026-10`` for a month)."""

    label: str
    start: float
    end: float
    timezone: str

    def covers(self, at: float) -> bool:
        """Whether ``at`` falls in the period."""
        return self.start <= at < self.end


def month_period(label: str, zone: tzinfo, zone_name: str) -> ReportPeriod:
    """The calendar month ``YYYY-MM`` in ``zone``, from its first midnight to the next's."""
    match = _MONTH.fullmatch(label)
    if match is None:
        raise InvalidPeriod(f"'period' must be a month written YYYY-MM, not {label!r}")
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12 or year < 1970:
        raise InvalidPeriod(f"'period' {label!r} is not a month (YYYY-MM, from 1970-01)")
    start = datetime(year, month, 1, tzinfo=zone)
    following = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return ReportPeriod(label, start.timestamp(), following.timestamp(), zone_name)


def previous_month(now: float, zone: tzinfo) -> str:
    """The label of the last whole month before ``now`` (the default period)."""
    first = datetime.fromtimestamp(now, zone).replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


@dataclass(frozen=True, slots=True)
class Summary:
    """The first thing a reader sees: counts for the period."""

    open_hazards: int
    hazards_opened: int
    hazards_eliminated: int
    alarms: int
    wiring_faults: int
    tests_passed: int
    tests_failed: int
    tests_missed: int
    inspections: int
    findings: int
    outages: int
    outage_hours: float
    early_warnings: int
    setpoint_changes: int
    commands: int


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One hazard: what happened, and who acknowledged and eliminated it, when."""

    hazard_id: str
    kind: str
    device_id: str
    device_name: str
    channel: str
    channel_kind: str | None
    opened_at: float
    value_at_alarm: float | int | str | None
    unit: str | None
    acknowledged_by: str | None
    acknowledged_at: float | None
    eliminated_by: str | None
    eliminated_at: float | None
    note: str | None
    #: The hazard's state at the end of the period (a later step is not shown).
    state: str


@dataclass(frozen=True, slots=True)
class AlarmCount:
    """How many alarms of one kind (the alarmed channel's kind, or ``wiring_fault``)."""

    kind: str
    count: int
    #: By device id.
    devices: dict[str, int]


@dataclass(frozen=True, slots=True)
class HourPoint:
    """One hour of a chart: its start, mean and maximum."""

    hour: float
    mean: float
    maximum: float


@dataclass(frozen=True, slots=True)
class SetpointStep:
    """The alarm setpoint in force from ``at`` on."""

    at: float
    value: float


@dataclass(frozen=True, slots=True)
class ChannelStats:
    """A leakage or temperature channel over the period."""

    device_id: str
    device_name: str
    channel: str
    kind: str
    unit: str | None
    hours: int
    maximum: float | None
    maximum_hour: float | None
    #: The median of the hourly means: what the channel usually reads, spikes aside.
    typical: float | None
    setpoint_key: str | None
    #: The alarm setpoint in force at the end of the period, when known.
    setpoint: float | None
    setpoint_steps: tuple[SetpointStep, ...] = ()
    points: tuple[HourPoint, ...] = ()

    @property
    def of_setpoint(self) -> float | None:
        """The maximum as a share of the setpoint (1.0 = at the setpoint)."""
        if self.maximum is None or not self.setpoint:
            return None
        return self.maximum / self.setpoint


@dataclass(frozen=True, slots=True)
class SetpointChange:
    """A setpoint written through the bridge."""

    at: float
    device_id: str
    device_name: str
    setpoint: str
    setpoint_kind: str | None
    unit: str | None
    before: Any
    after: Any
    confirmed: bool | None
    who: str | None


@dataclass(frozen=True, slots=True)
class CommandEntry:
    """A command sent to a detector, and how it ended."""

    at: float
    device_id: str
    device_name: str
    command: str
    outcome: str
    reason: str | None
    who: str | None


@dataclass(frozen=True, slots=True)
class Outage:
    """A detector offline or a bus down; ``end`` None while it lasts past the period."""

    kind: str
    device_id: str | None
    device_name: str | None
    bus: str | None
    start: float
    end: float | None
    #: Whether it began before the period (``start`` is then the period's start).
    began_before: bool
    hours: float


@dataclass(frozen=True, slots=True)
class LogRecord:
    """A self-test, an inspection or an early warning, from a generic wire dict."""

    at: float
    #: What it is: an event type (``self_test_result``) or a record kind.
    what: str
    device_id: str | None
    device_name: str | None
    channel: str | None
    result: str | None
    who: str | None
    detail: str | None
    #: An early warning's projected days to the setpoint.
    projected_days: float | None = None
    #: The channel's kind, when the detector's profile names the channel.
    channel_kind: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FindingEntry:
    """A compliance finding as the report shows it."""

    rule_id: str
    severity: str
    source: str
    device_id: str | None
    device_name: str | None
    channel: str | None
    value: Any
    limit: Any
    unit: str | None
    #: The translated explanation, when the compliance code gave one.
    explanation: str | None


@dataclass(frozen=True, slots=True)
class AlarmSpeed:
    """How soon the period's alarms were seen: each alarm's detection window is the time
    since the previous read of its unit's alarm registers, within which the condition
    appeared. Alarms of bridges before the window was recorded are counted but not
    measured. (Delivery into Home Assistant is measured by Home Assistant, which shows it
    as the last alarm's delay; the bridge does not record it.)"""

    alarms: int = 0
    measured: int = 0
    median_s: float | None = None
    p95_s: float | None = None
    max_s: float | None = None


@dataclass(frozen=True, slots=True)
class SafetyReport:
    """Every section of one site's report for one period."""

    site_id: str
    site_name: str
    period: ReportPeriod
    generated_at: float
    summary: Summary
    timeline: tuple[TimelineEntry, ...]
    alarm_counts: tuple[AlarmCount, ...]
    channels: tuple[ChannelStats, ...]
    tests: tuple[LogRecord, ...]
    setpoint_changes: tuple[SetpointChange, ...]
    commands: tuple[CommandEntry, ...]
    findings: tuple[FindingEntry, ...]
    outages: tuple[Outage, ...]
    early_warnings: tuple[LogRecord, ...]
    #: The detectors' names, by id.
    devices: dict[str, str] = field(default_factory=dict)
    alarm_speed: AlarmSpeed = field(default_factory=AlarmSpeed)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``GET /api/v1/report?format=json``)."""
        data = asdict(self)
        data["schema"] = REPORT_SCHEMA
        for channel, stats in zip(data["channels"], self.channels, strict=True):
            channel["of_setpoint"] = stats.of_setpoint
            # The hourly points are for the charts; the JSON stays small.
            del channel["points"]
        return data
