"""Gathering a report's inputs from a running bridge, and making the report in each format.

The event store gives the period's events (paged), the hazard book the hazards, the
telemetry statistics the hourly rows, and the buses the detectors' channels and setpoints.
Records kept by other parts of the bridge (compliance findings, scheduled self-tests and
inspections, early warnings) come through :class:`ReportExtras`, whose providers return
nothing until those parts are wired to it.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..common.enums import EventType
from ..common.site import Finding, Site
from ..storage.event_store import MAX_QUERY_LIMIT, AsyncEventStore, StoredEvent
from ..storage.telemetry_stats import HOUR_S, AsyncTelemetryStats
from .catalogue import DEFAULT_LANGUAGE, texts
from .collect import (
    CHARTED_KINDS,
    ChannelFact,
    DeviceFacts,
    ReportInputs,
    SetpointFact,
    build_report,
)
from .model import (
    InvalidPeriod,
    ReportFormat,
    SafetyReport,
    month_period,
    previous_month,
)

if TYPE_CHECKING:
    from ..bus.scheduler import Bus
    from ..profiles.model import Channel, Profile
    from ..safety.hazards import HazardBook


def _none() -> Sequence[Any]:
    return ()


def _no_site() -> Site | None:
    return None


@dataclass(slots=True)
class ReportExtras:
    """Providers of the records other parts of the bridge keep (empty until wired)."""

    #: The site the bridge watches; without one the report names the bridge's id.
    site: Callable[[], Site | None] = _no_site
    findings: Callable[[], Sequence[Finding]] = _none
    #: Self-test and inspection records, as generic wire dicts (see report/collect.py).
    test_records: Callable[[], Sequence[Mapping[str, Any]]] = _none
    #: Early warnings, as generic wire dicts.
    warning_records: Callable[[], Sequence[Mapping[str, Any]]] = _none
    #: The translated explanation of a finding in a language, when there is one.
    explain: Callable[[Finding, str], str | None] | None = None
    #: Brings the providers up to date before a report is gathered (the findings are
    #: worked out afresh: setpoints and the self-test log move).
    refresh: Callable[[], Awaitable[object]] | None = None


#: The longest a page may take (a month of many detectors on a small board).
RENDER_TIMEOUT_S = 90.0


class ReportSource(Protocol):
    """What a report is gathered from: a running :class:`~..service.Bridge`."""

    bridge_id: str
    device_bus: Mapping[str, Bus]
    hazards: HazardBook
    report_extras: ReportExtras

    @property
    def store(self) -> AsyncEventStore:
        """The event store."""
        ...

    @property
    def telemetry(self) -> AsyncTelemetryStats:
        """The hourly statistics."""
        ...


def report_zone() -> tuple[tzinfo, str]:
    """The time zone a month is counted in: ``TZ`` (the add-on gets Home Assistant's), or UTC."""
    name = os.environ.get("TZ", "").strip().lstrip(":")
    if name:
        try:
            return ZoneInfo(name), name
        except (ZoneInfoNotFoundError, ValueError):
            pass  # a TZ the zone database does not know (a POSIX rule): counted in UTC
    return UTC, "UTC"


def channel_setpoint(profile: Profile, channel: Channel) -> str | None:
    """The setpoint a channel's alarm is compared with, when the profile says or names it.

    The channel's own ``above`` condition first; else the setpoint named
    ``<channel>_alarm_setpoint``; else the one setpoint of the channel kind's alarm kind.
    """
    for condition in channel.alarm:
        if condition.above is not None:
            return condition.above
    keys = {s.key for s in profile.setpoints}
    if f"{channel.key}_alarm_setpoint" in keys:
        return f"{channel.key}_alarm_setpoint"
    same_kind = [s.key for s in profile.setpoints if str(s.kind) == f"{channel.kind}_alarm"]
    return same_kind[0] if len(same_kind) == 1 else None


def device_facts(device_bus: Mapping[str, Bus]) -> dict[str, DeviceFacts]:
    """Every detector's name, charted channels and setpoints (with their values now)."""
    facts = {}
    for device_id, bus in sorted(device_bus.items()):
        spec = bus.units[device_id].spec
        profile = spec.profile
        values = bus.snapshot(device_id)["setpoints"]
        facts[device_id] = DeviceFacts(
            name=spec.name or device_id,
            channels={
                c.key: ChannelFact(
                    str(c.kind),
                    c.unit,
                    channel_setpoint(profile, c) if str(c.kind) in CHARTED_KINDS else None,
                )
                for c in profile.channels
            },
            setpoints={
                s.key: SetpointFact(
                    str(s.kind),
                    s.unit,
                    _number(values.get(s.key)),
                )
                for s in profile.setpoints
            },
        )
    return facts


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


async def _events(
    store: AsyncEventStore,
    since: float,
    until: float | None,
    types: Sequence[EventType] | None = None,
) -> list[StoredEvent]:
    events: list[StoredEvent] = []
    after: int | None = None
    while True:
        page = await store.query(
            since=since, until=until, types=types, after_seq=after, limit=MAX_QUERY_LIMIT
        )
        events.extend(page)
        if len(page) < MAX_QUERY_LIMIT:
            return events
        after = page[-1].seq


async def gather_report(
    source: ReportSource,
    period_label: str | None,
    language: str = DEFAULT_LANGUAGE,
    *,
    now: float | None = None,
    zone: tuple[tzinfo, str] | None = None,
) -> tuple[SafetyReport, tzinfo]:
    """The report of one month (the last whole one by default) from a running bridge."""
    texts(language)  # an unknown language is refused before any work
    now = time.time() if now is None else now
    tz, tz_name = report_zone() if zone is None else zone
    period = month_period(period_label or previous_month(now, tz), tz, tz_name)
    if period.start > now:
        raise InvalidPeriod(f"'period' {period.label} has not begun yet")
    extras = source.report_extras
    if extras.refresh is not None:
        await extras.refresh()
    explain = extras.explain
    site = extras.site()
    inputs = ReportInputs(
        site_id=source.bridge_id if site is None else site.id,
        site_name=source.bridge_id if site is None else site.name,
        period=period,
        generated_at=now,
        events=await _events(source.store, period.start, period.end),
        hazards=source.hazards.all(),
        hourly=await source.telemetry.hours(period.start - HOUR_S, period.end),
        devices=device_facts(source.device_bus),
        later_setpoint_changes=await _events(
            source.store, period.end, None, [EventType.SETPOINT_CHANGED]
        ),
        findings=extras.findings(),
        test_records=extras.test_records(),
        warning_records=extras.warning_records(),
        explain=None if explain is None else (lambda finding: explain(finding, language)),
    )
    return build_report(inputs), tz


class ReportRenderError(RuntimeError):
    """The page could not be made; the message carries the renderer's own last words."""


async def render_report(
    report: SafetyReport, zone: tzinfo, language: str, fmt: ReportFormat
) -> bytes | dict[str, Any]:
    """The report in one format: the JSON dict, or the HTML or PDF bytes.

    The HTML and the PDF are made by a child process (``render_worker``): the charting and
    PDF libraries never load into the bridge, and its event loop (alarm polls, pushes) never
    waits for them.
    """
    if fmt is ReportFormat.JSON:
        data = report.to_dict()
        data["language"] = language
        return data
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "electrical_safety_bridge.report.render_worker",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        body, errors = await asyncio.wait_for(
            child.communicate(pickle.dumps((report, language, zone, fmt))), RENDER_TIMEOUT_S
        )
    except TimeoutError:
        child.kill()
        await child.wait()
        raise ReportRenderError(
            f"the report's {fmt} page took longer than {RENDER_TIMEOUT_S:.0f} s"
        ) from None
    if child.returncode != 0:
        last = errors.decode(errors="replace").strip().splitlines()[-3:]
        raise ReportRenderError(
            f"the report's {fmt} page could not be made (exit {child.returncode}): "
            + " / ".join(last)
        )
    return body
