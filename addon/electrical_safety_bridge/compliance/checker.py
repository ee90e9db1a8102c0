"""The compliance rules run over a running bridge: its site, each detector's installation and
the setpoints last read, and the self-test log. The rules themselves stay pure (engine.py);
this gathers their inputs and keeps the last findings for the report.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence

from ..common.enums import ChannelKind, SelfTestResult
from ..common.models import Device
from ..common.proof import SelfTestRecord
from ..common.site import Finding, Site
from .china import ALARM_TIME_LIMIT_S, SelfTestTiming
from .engine import evaluate
from .facts import device_facts

#: How far back the self-test log is read for the alarm-time rule: a year, so that a test
#: passed since outweighs one failed long ago (only each device's latest judged test counts).
SELF_TEST_LOOKBACK_S = 366 * 86400.0
#: Results that say how fast the detector alarmed: a missed test or one nobody answered
#: is the self-test schedule's repair, not a finding of the alarm time.
_JUDGED = frozenset({SelfTestResult.PASSED.value, SelfTestResult.FAILED.value})


def latest_timings(
    records: Iterable[SelfTestRecord], devices: Sequence[Device]
) -> list[SelfTestTiming]:
    """Each device's latest judged self-test as (device, channel kind, seconds to alarm):
    the kind of the channel whose alarm answered, else the kind its time limit stands for
    (40 s: temperature, 30 s: residual current)."""
    kinds = {d.id: {c.key: c.kind for c in d.channels} for d in devices}
    latest: dict[str, SelfTestRecord] = {}
    for record in records:
        if str(record.result) not in _JUDGED or record.device_id not in kinds:
            continue
        if record.device_id not in latest or record.at > latest[record.device_id].at:
            latest[record.device_id] = record
    timings: list[SelfTestTiming] = []
    for device_id, record in sorted(latest.items()):
        kind = kinds[device_id].get(record.channel or "")
        if kind not in ALARM_TIME_LIMIT_S:
            temperature = record.time_limit_s >= ALARM_TIME_LIMIT_S[ChannelKind.TEMPERATURE]
            kind = ChannelKind.TEMPERATURE if temperature else ChannelKind.RESIDUAL_CURRENT
        timings.append((device_id, str(kind), record.seconds_to_alarm))
    return timings


class ComplianceChecker:
    """Findings of the bridge's site and detectors, worked out afresh on each ``check``;
    ``last`` is the latest, for the report (which asks synchronously)."""

    def __init__(
        self,
        site: Callable[[], Site],
        devices: Callable[[], Sequence[Device]],
        self_tests: Callable[[float], Awaitable[Sequence[SelfTestRecord]]],
        clock: Callable[[], float],
    ) -> None:
        self._site = site
        self._devices = devices
        self._self_tests = self_tests
        self._clock = clock
        self.last: tuple[Finding, ...] = ()

    async def check(self) -> tuple[Finding, ...]:
        """Every finding now (the site's first, then each device's, most severe first)."""
        devices = self._devices()
        records = await self._self_tests(self._clock() - SELF_TEST_LOOKBACK_S)
        facts = [device_facts(device, device.installation) for device in devices]
        self.last = evaluate(self._site(), facts, latest_timings(records, devices))
        return self.last
