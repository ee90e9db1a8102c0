"""The report's sections, each made by one pure function from what the bridge recorded.

:func:`build_report` takes a :class:`ReportInputs` (events of the period from the event store,
the hazards, the hourly telemetry statistics, the detectors' facts, and the records other
parts of the bridge keep: compliance findings, self-test and inspection records, early
warnings) and calls one function per section. Nothing here reads a file or a socket:
``report/sources.py`` gathers the inputs from a running bridge.

Records that other modules own arrive as generic wire dicts (``Mapping[str, Any]``); the
keys read are ``at`` (seconds since the epoch), ``type`` or ``kind`` (what it is),
``device_id``, ``channel``, ``result``, ``who`` (or ``by``), ``detail`` (or ``note``) and,
for an early warning, ``projected_days``. An event of the store turned into such a dict by
:func:`event_record` has them all.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..common.enums import AlarmKind, EventType, HazardState, InspectionKind, SelfTestResult
from ..common.site import Finding
from ..common.workflow import Hazard
from ..storage.event_store import StoredEvent
from ..storage.telemetry_stats import HOUR_S, HourlyStat
from .model import (
    AlarmCount,
    AlarmSpeed,
    ChannelStats,
    CommandEntry,
    FindingEntry,
    HourPoint,
    LogRecord,
    Outage,
    ReportPeriod,
    SafetyReport,
    SetpointChange,
    SetpointStep,
    Summary,
    TimelineEntry,
)

#: The channel kinds whose statistics and charts the report shows.
CHARTED_KINDS = ("residual_current", "temperature")
#: The event types of the self-test and inspection log, and of the early warnings.
TEST_EVENT_TYPES = (
    EventType.SELF_TEST,
    EventType.SELF_TEST_RESULT,
    EventType.SELF_TEST_MISSED,
    EventType.INSPECTION_RECORDED,
    EventType.INSPECTION_OVERDUE,
)
WARNING_EVENT_TYPES = (EventType.EARLY_WARNING,)

_FAILED_RESULTS = frozenset({SelfTestResult.FAILED.value, SelfTestResult.NO_RESPONSE.value})
_INSPECTIONS = frozenset(
    {EventType.INSPECTION_RECORDED.value, *(kind.value for kind in InspectionKind)}
)


@dataclass(frozen=True, slots=True)
class ChannelFact:
    """What the report needs of one channel: its kind, unit, and its alarm setpoint's key."""

    kind: str
    unit: str | None
    setpoint: str | None = None


@dataclass(frozen=True, slots=True)
class SetpointFact:
    """One setpoint: its kind, unit, and its value now (None when not read)."""

    kind: str | None
    unit: str | None
    value: float | None


@dataclass(frozen=True, slots=True)
class DeviceFacts:
    """One detector as the report names and measures it."""

    name: str
    channels: Mapping[str, ChannelFact] = field(default_factory=dict)
    setpoints: Mapping[str, SetpointFact] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReportInputs:
    """Everything a report is made of."""

    site_id: str
    site_name: str
    period: ReportPeriod
    generated_at: float
    #: The store's events in the period, oldest first.
    events: Sequence[StoredEvent]
    #: Every hazard as it stands now (steps after the period are left out).
    hazards: Sequence[Hazard]
    #: Hourly statistics of the period.
    hourly: Sequence[HourlyStat]
    devices: Mapping[str, DeviceFacts]
    #: Setpoint changes after the period, oldest first: they tell the value at its end.
    later_setpoint_changes: Sequence[StoredEvent] = ()
    findings: Sequence[Finding] = ()
    #: Self-test and inspection records (generic wire dicts), besides the store's events.
    test_records: Sequence[Mapping[str, Any]] = ()
    #: Early warnings (generic wire dicts), besides the store's events.
    warning_records: Sequence[Mapping[str, Any]] = ()
    #: The translated explanation of a finding, when the compliance code offers one.
    explain: Callable[[Finding], str | None] | None = None


def build_report(inputs: ReportInputs) -> SafetyReport:
    """The report, one section at a time."""
    period = inputs.period
    devices = inputs.devices
    events = [e for e in inputs.events if period.covers(e.at)]
    timeline = timeline_section(inputs.hazards, period, devices)
    alarm_counts = alarm_count_section(events, devices)
    channels = channel_section(
        inputs.hourly, devices, events, inputs.later_setpoint_changes, period
    )
    tests = record_section(
        [*(event_record(e) for e in events if e.type in TEST_EVENT_TYPES), *inputs.test_records],
        devices,
        period,
    )
    warnings = record_section(
        [
            *(event_record(e) for e in events if e.type in WARNING_EVENT_TYPES),
            *inputs.warning_records,
        ],
        devices,
        period,
    )
    setpoint_changes = setpoint_change_section(events, devices)
    commands = command_section(events, devices)
    findings = finding_section(inputs.findings, devices, inputs.explain)
    outages = outage_section(events, period, devices, inputs.generated_at)
    return SafetyReport(
        site_id=inputs.site_id,
        site_name=inputs.site_name,
        period=period,
        generated_at=inputs.generated_at,
        summary=summary_section(
            inputs.hazards,
            period,
            events,
            tests,
            findings,
            outages,
            warnings,
            setpoint_changes,
            commands,
        ),
        timeline=timeline,
        alarm_counts=alarm_counts,
        channels=channels,
        tests=tests,
        setpoint_changes=setpoint_changes,
        commands=commands,
        findings=findings,
        outages=outages,
        early_warnings=warnings,
        devices={device_id: facts.name for device_id, facts in sorted(devices.items())},
        alarm_speed=alarm_speed_section(events),
    )


# -- summary -----------------------------------------------------------------------------


def summary_section(
    hazards: Sequence[Hazard],
    period: ReportPeriod,
    events: Sequence[StoredEvent],
    tests: Sequence[LogRecord],
    findings: Sequence[FindingEntry],
    outages: Sequence[Outage],
    warnings: Sequence[LogRecord],
    setpoint_changes: Sequence[SetpointChange],
    commands: Sequence[CommandEntry],
) -> Summary:
    """The counts of the period, from the other sections."""
    types = Counter(e.type for e in events)
    return Summary(
        open_hazards=sum(
            1
            for h in hazards
            if h.opened_at < period.end and _state_at(h, period.end) != HazardState.ELIMINATED
        ),
        hazards_opened=sum(1 for h in hazards if period.covers(h.opened_at)),
        hazards_eliminated=sum(
            1 for h in hazards if h.eliminated is not None and period.covers(h.eliminated.at)
        ),
        alarms=types[EventType.ALARM_RAISED],
        wiring_faults=types[EventType.WIRING_FAULT_RAISED],
        tests_passed=sum(1 for r in tests if r.result == SelfTestResult.PASSED.value),
        tests_failed=sum(1 for r in tests if r.result in _FAILED_RESULTS),
        tests_missed=sum(
            1
            for r in tests
            if r.result == SelfTestResult.MISSED.value or r.what == EventType.SELF_TEST_MISSED.value
        ),
        inspections=sum(1 for r in tests if r.what in _INSPECTIONS),
        findings=len(findings),
        outages=len(outages),
        outage_hours=round(sum(o.hours for o in outages), 2),
        early_warnings=len(warnings),
        setpoint_changes=len(setpoint_changes),
        commands=len(commands),
    )


# -- incident timeline --------------------------------------------------------------------


def _state_at(hazard: Hazard, at: float) -> str:
    if hazard.eliminated is not None and hazard.eliminated.at < at:
        return HazardState.ELIMINATED
    if hazard.acknowledged is not None and hazard.acknowledged.at < at:
        return HazardState.ACKNOWLEDGED
    return HazardState.OPEN


def timeline_section(
    hazards: Sequence[Hazard], period: ReportPeriod, devices: Mapping[str, DeviceFacts]
) -> tuple[TimelineEntry, ...]:
    """Every hazard opened in the period or still open in it, with who did what, when.

    Steps taken after the period are left out: the report says how things stood then.
    """
    entries = []
    for hazard in sorted(hazards, key=lambda h: (h.opened_at, h.id)):
        if hazard.opened_at >= period.end:
            continue
        if hazard.eliminated is not None and hazard.eliminated.at < period.start:
            continue
        acknowledged = (
            hazard.acknowledged
            if hazard.acknowledged is not None and hazard.acknowledged.at < period.end
            else None
        )
        eliminated = (
            hazard.eliminated
            if hazard.eliminated is not None and hazard.eliminated.at < period.end
            else None
        )
        fact = _channel(devices, hazard.device_id, hazard.channel)
        entries.append(
            TimelineEntry(
                hazard_id=hazard.id,
                kind=str(hazard.kind),
                device_id=hazard.device_id,
                device_name=_name(devices, hazard.device_id),
                channel=hazard.channel,
                channel_kind=None if fact is None else fact.kind,
                opened_at=hazard.opened_at,
                value_at_alarm=hazard.value_at_alarm,
                unit=None if fact is None else fact.unit,
                acknowledged_by=None if acknowledged is None else acknowledged.who,
                acknowledged_at=None if acknowledged is None else acknowledged.at,
                eliminated_by=None if eliminated is None else eliminated.who,
                eliminated_at=None if eliminated is None else eliminated.at,
                note=hazard.note if eliminated is not None else None,
                state=str(_state_at(hazard, period.end)),
            )
        )
    return tuple(entries)


# -- alarms by kind -----------------------------------------------------------------------


def alarm_count_section(
    events: Sequence[StoredEvent], devices: Mapping[str, DeviceFacts]
) -> tuple[AlarmCount, ...]:
    """Alarms raised, by the alarmed channel's kind; wiring faults as one more kind."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for event in events:
        if event.type is EventType.WIRING_FAULT_RAISED:
            kind = AlarmKind.WIRING_FAULT.value
        elif event.type is EventType.ALARM_RAISED:
            fact = _channel(devices, event.device_id, event.channel)
            kind = fact.kind if fact is not None else "other"
        else:
            continue
        counts[kind][event.device_id or ""] += 1
    return tuple(
        AlarmCount(kind, sum(by_device.values()), dict(sorted(by_device.items())))
        for kind, by_device in sorted(counts.items(), key=lambda item: -sum(item[1].values()))
    )


def alarm_speed_section(events: Sequence[StoredEvent]) -> AlarmSpeed:
    """The detection windows the period's alarms carried: median, 95th percentile, longest."""
    alarms = [e for e in events if e.type is EventType.ALARM_RAISED]
    windows = sorted(
        float(w)
        for e in alarms
        if isinstance(w := e.data.get("detection_window_s"), int | float)
        and not isinstance(w, bool)
        and math.isfinite(w)
    )
    if not windows:
        return AlarmSpeed(alarms=len(alarms))
    return AlarmSpeed(
        alarms=len(alarms),
        measured=len(windows),
        median_s=round(statistics.median(windows), 3),
        p95_s=round(windows[min(len(windows) - 1, math.ceil(0.95 * len(windows)) - 1)], 3),
        max_s=round(windows[-1], 3),
    )


# -- leakage and temperature per channel --------------------------------------------------


def channel_section(
    hourly: Sequence[HourlyStat],
    devices: Mapping[str, DeviceFacts],
    events: Sequence[StoredEvent],
    later_setpoint_changes: Sequence[StoredEvent],
    period: ReportPeriod,
) -> tuple[ChannelStats, ...]:
    """Maximum and typical value of each leakage and temperature channel, with its hours."""
    by_channel: dict[tuple[str, str], list[HourlyStat]] = defaultdict(list)
    for row in hourly:
        if period.start - HOUR_S < row.hour < period.end:
            by_channel[(row.device_id, row.channel)].append(row)
    changes = [e for e in events if e.type is EventType.SETPOINT_CHANGED]
    stats = []
    for device_id, facts in sorted(devices.items()):
        for key, fact in facts.channels.items():
            if fact.kind not in CHARTED_KINDS:
                continue
            rows = sorted(by_channel.get((device_id, key), []), key=lambda r: r.hour)
            peak = max(rows, key=lambda r: r.maximum, default=None)
            setpoint = facts.setpoints.get(fact.setpoint or "")
            steps = _setpoint_steps(
                device_id, fact.setpoint, setpoint, changes, later_setpoint_changes, period
            )
            stats.append(
                ChannelStats(
                    device_id=device_id,
                    device_name=facts.name,
                    channel=key,
                    kind=fact.kind,
                    unit=fact.unit,
                    hours=len(rows),
                    maximum=None if peak is None else peak.maximum,
                    maximum_hour=None if peak is None else float(peak.hour),
                    typical=round(statistics.median(r.mean for r in rows), 3) if rows else None,
                    setpoint_key=fact.setpoint,
                    setpoint=steps[-1].value if steps else None,
                    setpoint_steps=steps,
                    points=tuple(
                        HourPoint(float(r.hour), round(r.mean, 3), r.maximum) for r in rows
                    ),
                )
            )
    return tuple(stats)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _setpoint_steps(
    device_id: str,
    key: str | None,
    now: SetpointFact | None,
    changes: Sequence[StoredEvent],
    later: Sequence[StoredEvent],
    period: ReportPeriod,
) -> tuple[SetpointStep, ...]:
    """The setpoint over the period: its value at the start, then each change in it."""
    if key is None:
        return ()
    mine = [c for c in changes if c.device_id == device_id and c.channel == key]
    after = [c for c in later if c.device_id == device_id and c.channel == key]
    # The value at the end: the first later change's "from", or what the device holds now.
    at_end = _number(after[0].data.get("from")) if after else (now.value if now else None)
    at_start = _number(mine[0].data.get("from")) if mine else at_end
    steps = [] if at_start is None else [SetpointStep(period.start, at_start)]
    for change in mine:
        value = _number(change.data.get("to"))
        if value is not None:
            steps.append(SetpointStep(change.at, value))
    return tuple(steps)


# -- self-tests, inspections and early warnings -------------------------------------------


def event_record(event: StoredEvent) -> dict[str, Any]:
    """A store event as a generic record dict (its data, plus where and when)."""
    return {
        **event.data,
        "at": event.at,
        "type": event.type.value,
        "device_id": event.device_id,
        "channel": event.channel,
    }


def _text(record: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = record.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def record_section(
    records: Sequence[Mapping[str, Any]],
    devices: Mapping[str, DeviceFacts],
    period: ReportPeriod,
) -> tuple[LogRecord, ...]:
    """Records in the period, oldest first; one without a time is a bug of its source."""
    out = []
    for record in records:
        at = _number(record.get("at"))
        if at is None:
            raise ValueError(f"a report record needs 'at' (seconds since the epoch): {record!r}")
        if not period.covers(at):
            continue
        device_id = _text(record, "device_id")
        what = _text(record, "inspection_kind", "type", "kind") or "record"
        result = _text(record, "result")
        if result is None and what in (
            EventType.SELF_TEST_MISSED.value,
            EventType.INSPECTION_OVERDUE.value,
        ):
            result = "missed" if what == EventType.SELF_TEST_MISSED.value else "overdue"
        elif result is None and what in _INSPECTIONS:
            result = "recorded"
        out.append(
            LogRecord(
                at=at,
                what=what,
                device_id=device_id,
                device_name=None if device_id is None else _name(devices, device_id),
                channel=_text(record, "channel"),
                result=result,
                who=_text(record, "who", "by", "inspector"),
                detail=_text(record, "detail", "note", "message"),
                projected_days=_number(record.get("projected_days")),
                channel_kind=None
                if (fact := _channel(devices, device_id, _text(record, "channel"))) is None
                else fact.kind,
                raw=dict(record),
            )
        )
    return tuple(sorted(out, key=lambda r: r.at))


# -- setpoint changes and commands --------------------------------------------------------


def setpoint_change_section(
    events: Sequence[StoredEvent], devices: Mapping[str, DeviceFacts]
) -> tuple[SetpointChange, ...]:
    """Every setpoint written in the period: who, from, to, and whether it read back."""
    out = []
    for event in events:
        if event.type is not EventType.SETPOINT_CHANGED or event.device_id is None:
            continue
        key = event.channel or ""
        fact = devices.get(event.device_id, DeviceFacts(event.device_id)).setpoints.get(key)
        confirmed = event.data.get("confirmed")
        out.append(
            SetpointChange(
                at=event.at,
                device_id=event.device_id,
                device_name=_name(devices, event.device_id),
                setpoint=key,
                setpoint_kind=None if fact is None else fact.kind,
                unit=None if fact is None else fact.unit,
                before=event.data.get("from"),
                after=event.data.get("to"),
                confirmed=confirmed if isinstance(confirmed, bool) else None,
                who=_text(event.data, "who"),
            )
        )
    return tuple(out)


def command_section(
    events: Sequence[StoredEvent], devices: Mapping[str, DeviceFacts]
) -> tuple[CommandEntry, ...]:
    """Every command of the period, refused ones included, with who sent it."""
    return tuple(
        CommandEntry(
            at=event.at,
            device_id=event.device_id,
            device_name=_name(devices, event.device_id),
            command=str(event.data.get("command", "")),
            outcome=str(event.data.get("outcome", "")),
            reason=_text(event.data, "reason"),
            who=_text(event.data, "who"),
        )
        for event in events
        if event.type is EventType.COMMAND and event.device_id is not None
    )


# -- compliance findings ------------------------------------------------------------------


def finding_section(
    findings: Sequence[Finding],
    devices: Mapping[str, DeviceFacts],
    explain: Callable[[Finding], str | None] | None,
) -> tuple[FindingEntry, ...]:
    """The findings as they stand, the most severe first."""
    order = {"error": 0, "warning": 1, "info": 2}
    return tuple(
        FindingEntry(
            rule_id=finding.rule_id,
            severity=str(finding.severity),
            source=finding.source,
            device_id=finding.device_id,
            device_name=None if finding.device_id is None else _name(devices, finding.device_id),
            channel=finding.channel,
            value=finding.value,
            limit=finding.limit,
            unit=finding.unit,
            explanation=None if explain is None else explain(finding),
        )
        for finding in sorted(
            findings,
            key=lambda f: (order.get(str(f.severity), 3), f.rule_id, f.device_id or ""),
        )
    )


# -- communication outages ----------------------------------------------------------------


def outage_section(
    events: Sequence[StoredEvent],
    period: ReportPeriod,
    devices: Mapping[str, DeviceFacts],
    generated_at: float,
) -> tuple[Outage, ...]:
    """Detectors offline and buses down: from the loss to the recovery, within the period.

    A recovery without its loss in the period began before it; a loss without its recovery
    lasts to the period's end (or to now, for the running month).
    """
    stop = min(period.end, generated_at)
    open_: dict[tuple[str, str], float] = {}
    out: list[Outage] = []

    def close(kind: str, name: str, start: float, end: float | None, before: bool) -> None:
        until = stop if end is None else end
        out.append(
            Outage(
                kind=kind,
                device_id=name if kind == "device" else None,
                device_name=_name(devices, name) if kind == "device" else None,
                bus=name if kind == "bus" else None,
                start=start,
                end=end,
                began_before=before,
                hours=round(max(0.0, until - start) / HOUR_S, 3),
            )
        )

    for event in events:
        if event.type is EventType.DEVICE_OFFLINE and event.device_id:
            open_.setdefault(("device", event.device_id), event.at)
        elif event.type is EventType.BUS_DOWN:
            open_.setdefault(("bus", str(event.data.get("bus", ""))), event.at)
        elif event.type is EventType.DEVICE_ONLINE and event.device_id:
            key = ("device", event.device_id)
            if key in open_:
                close("device", event.device_id, open_.pop(key), event.at, False)
            elif event.data.get("recovered") is True:
                close("device", event.device_id, period.start, event.at, True)
        elif event.type is EventType.BUS_UP:
            bus = str(event.data.get("bus", ""))
            if ("bus", bus) in open_:
                close("bus", bus, open_.pop(("bus", bus)), event.at, False)
    for (kind, name), start in open_.items():
        close(kind, name, start, None, False)
    return tuple(sorted(out, key=lambda o: o.start))


# -- helpers ------------------------------------------------------------------------------


def _name(devices: Mapping[str, DeviceFacts], device_id: str) -> str:
    facts = devices.get(device_id)
    return device_id if facts is None else facts.name


def _channel(
    devices: Mapping[str, DeviceFacts], device_id: str | None, channel: str | None
) -> ChannelFact | None:
    facts = devices.get(device_id or "")
    return None if facts is None else facts.channels.get(channel or "")
