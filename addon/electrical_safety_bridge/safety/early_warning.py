"""Early warning: a channel's leakage or temperature rising towards its alarm setpoint.

Pure: readings go in with their own timestamps, decisions come out; nothing here reads a
clock, so weeks of synthetic readings can be fed in a moment (tests, the simulator's
compressed time). The service feeds it and persists :meth:`ChannelBaseline.to_state`.

The method (docs/decisions.md, "Early warning"):

1. **Bucket medians.** Readings are grouped in 15-minute buckets (:data:`BUCKET_S`); each
   bucket keeps its median. A spike of a few readings does not move a median.
2. **Daily level.** When a (UTC) day ends, its level is a high percentile (90th by
   default) of its bucket medians: the level of the afternoon peak of a daily load cycle,
   which is the one that reaches the setpoint first. A day with less than half of its
   buckets is not used (a partial day may miss the peak).
3. **Trend.** Over the last ``window_days`` daily levels: Sen's slope (the Theil–Sen
   estimator, the median of every pairwise slope) and the Mann–Kendall test of whether
   the levels rise at all. Both are rank-based, so a few odd days (a spike that lasted
   hours, a day with a heater on) neither fake nor hide a trend.
4. **Projection.** The recent level (median of the last three daily levels) is projected
   along the slope: days to setpoint = (setpoint - recent level) / slope.

A warning fires when, on a closed day, the rise is significant (Mann–Kendall, one-sided,
at ``significance``), the recent level has risen by at least ``min_rise_share`` of the
headroom the window started with, and the setpoint would be reached within
``horizon_days`` but has not been yet (past it, the alarm speaks). It clears, with
hysteresis, when the trend is no longer significant at twice that significance, the rise
falls under half of ``min_rise_share`` (a repair: the level fell back), or the projection
goes past ``clear_horizon_days``.

Memory is bounded: per channel, the samples of one bucket (thinned past
:data:`MAX_BUCKET_SAMPLES`), the bucket medians of one day, and ``window_days`` daily
levels.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Length of a bucket whose median stands for it.
BUCKET_S = 900.0
DAY_S = 86400.0
BUCKETS_PER_DAY = int(DAY_S // BUCKET_S)
#: A day counts only with at least this share of its buckets.
MIN_DAY_COVERAGE = 0.5
#: The samples one bucket keeps; past it, every other one is dropped (and from then on
#: only every other one is taken), so a fast poll cannot grow it.
MAX_BUCKET_SAMPLES = 128
#: How many daily levels make the "recent" and the "early" level of a window.
LEVEL_DAYS = 3
#: Version of :meth:`ChannelBaseline.to_state`'s form.
STATE_VERSION = 1


class EarlyWarningSettingsError(ValueError):
    """Early-warning settings that do not fit together: one ``key: reason`` per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True, slots=True)
class EarlyWarningSettings:
    """The tunables (config key ``early_warning``), with their defaults."""

    enabled: bool = True
    #: Days of daily levels the trend is fitted over.
    window_days: int = 28
    #: Closed days needed before any warning.
    min_days: int = 10
    #: Warn only when the setpoint would be reached within this many days.
    horizon_days: float = 90.0
    #: A warning clears once the projection goes past this many days.
    clear_horizon_days: float = 135.0
    #: Mann–Kendall one-sided significance for "the level rises" (0.01: 1 %).
    significance: float = 0.01
    #: The recent level must have risen by this share of the headroom the window began with.
    min_rise_share: float = 0.2
    #: The percentile of a day's bucket medians taken as its level.
    daily_percentile: float = 90.0

    def __post_init__(self) -> None:
        problems = []
        if not 7 <= self.window_days <= 365:
            problems.append(f"window_days: must be 7-365, not {self.window_days}")
        if not 5 <= self.min_days <= self.window_days:
            problems.append(
                f"min_days: must be at least 5 and at most window_days ({self.window_days}),"
                f" not {self.min_days}"
            )
        if not 1 <= self.horizon_days <= 3650:
            problems.append(f"horizon_days: must be 1-3650, not {self.horizon_days}")
        if not self.horizon_days < self.clear_horizon_days <= 7300:
            problems.append(
                "clear_horizon_days: must be more than horizon_days"
                f" ({self.horizon_days}) and at most 7300, not {self.clear_horizon_days}"
            )
        if not 0 < self.significance <= 0.2:
            problems.append(
                f"significance: must be more than 0 and at most 0.2, not {self.significance}"
            )
        if not 0 < self.min_rise_share < 1:
            problems.append(f"min_rise_share: must be between 0 and 1, not {self.min_rise_share}")
        if not 50 <= self.daily_percentile <= 100:
            problems.append(f"daily_percentile: must be 50-100, not {self.daily_percentile}")
        if problems:
            raise EarlyWarningSettingsError(problems)

    @property
    def _z_warn(self) -> float:
        return statistics.NormalDist().inv_cdf(1 - self.significance)

    @property
    def _z_clear(self) -> float:
        return statistics.NormalDist().inv_cdf(1 - min(0.5, 2 * self.significance))


@dataclass(frozen=True, slots=True)
class Trend:
    """What the daily levels say now (None where there are too few of them)."""

    days_observed: int
    level: float | None = None
    slope_per_day: float | None = None
    #: Mann–Kendall z: above about 2.3 the rise is significant at 1 %.
    trend_z: float | None = None
    #: How much of the window's starting headroom the recent level has used.
    rise_share: float | None = None
    days_to_setpoint: float | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """A change of a channel's warning: raised (``warning`` True) or cleared."""

    warning: bool
    at: float
    trend: Trend
    setpoint: float
    #: Why it cleared: ``no_trend``, ``fell`` or ``beyond_horizon``; None when raised.
    reason: str | None = None


@dataclass(slots=True)
class _Bucket:
    index: int
    samples: list[float] = field(default_factory=list)
    stride: int = 1
    seen: int = 0

    def add(self, value: float) -> None:
        self.seen += 1
        if (self.seen - 1) % self.stride:
            return
        self.samples.append(value)
        if len(self.samples) >= MAX_BUCKET_SAMPLES:
            self.samples = self.samples[::2]
            self.stride *= 2


def sen_slope(points: Sequence[tuple[float, float]]) -> float:
    """The Theil–Sen slope: the median of the slopes between every two points."""
    slopes = [
        (y2 - y1) / (x2 - x1)
        for i, (x1, y1) in enumerate(points)
        for x2, y2 in points[i + 1 :]
        if x2 != x1
    ]
    return statistics.median(slopes) if slopes else 0.0


def mann_kendall_z(values: Sequence[float]) -> float:
    """The Mann–Kendall statistic as a z-score (with the tie correction): positive when
    later values tend to be larger; about N(0, 1) when there is no trend."""
    n = len(values)
    if n < 3:
        return 0.0
    s = sum(
        (values[j] > values[i]) - (values[j] < values[i])
        for i in range(n - 1)
        for j in range(i + 1, n)
    )
    ties: dict[float, int] = {}
    for value in values:
        ties[value] = ties.get(value, 0) + 1
    variance = (
        n * (n - 1) * (2 * n + 5) - sum(t * (t - 1) * (2 * t + 5) for t in ties.values())
    ) / 18
    if variance <= 0:
        return 0.0
    if s > 0:
        return (s - 1) / math.sqrt(variance)
    if s < 0:
        return (s + 1) / math.sqrt(variance)
    return 0.0


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` (0-100) percentile, interpolated between the nearest ranks."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * share / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


class ChannelBaseline:
    """The baseline of one channel: feed it readings, it says when to warn or clear."""

    def __init__(self, settings: EarlyWarningSettings) -> None:
        self.settings = settings
        self.setpoint: float | None = None
        self.warning = False
        self.warning_since: float | None = None
        self.trend = Trend(days_observed=0)
        #: Closed days: (UTC day number, level), oldest first, at most window_days.
        self._days: list[tuple[int, float]] = []
        self._day: int | None = None
        self._medians: list[float] = []
        self._bucket: _Bucket | None = None
        self._last_at: float | None = None

    @property
    def last_at(self) -> float | None:
        """When the newest reading was taken."""
        return self._last_at

    # ------------------------------------------------------------------ input

    def add(self, at: float, value: float, setpoint: float | None) -> Decision | None:
        """One reading at ``at`` (seconds since the epoch) and the channel's setpoint now
        (None when unknown). Returns a decision when the warning starts or ends.

        Readings older than the last one are ignored (a clock set back): the baseline
        only moves forward.
        """
        if not math.isfinite(value) or (self._last_at is not None and at < self._last_at):
            return None
        self._last_at = at
        changed_setpoint = setpoint != self.setpoint
        self.setpoint = setpoint
        index = math.floor(at / BUCKET_S)
        day = math.floor(at / DAY_S)
        closed = False
        if self._bucket is not None and self._bucket.index != index:
            self._close_bucket()
        if self._day is not None and self._day != day:
            self._close_day()
            closed = True
        self._day = day
        if self._bucket is None:
            self._bucket = _Bucket(index)
        self._bucket.add(value)
        if closed or changed_setpoint:
            return self._decide(at)
        return None

    def _close_bucket(self) -> None:
        if self._bucket is not None and self._bucket.samples:
            self._medians.append(statistics.median(self._bucket.samples))
        self._bucket = None

    def _close_day(self) -> None:
        if self._day is not None and len(self._medians) >= MIN_DAY_COVERAGE * BUCKETS_PER_DAY:
            level = percentile(self._medians, self.settings.daily_percentile)
            self._days.append((self._day, level))
        self._medians = []
        if self._days:
            oldest = self._days[-1][0] - self.settings.window_days + 1
            self._days = [(d, v) for d, v in self._days if d >= oldest]

    # ------------------------------------------------------------------ decision

    def _trend(self) -> Trend:
        days = self._days
        settings = self.settings
        if len(days) < settings.min_days:
            return Trend(days_observed=len(days))
        levels = [v for _, v in days]
        slope = sen_slope([(float(d), v) for d, v in days])
        z = mann_kendall_z(levels)
        recent = statistics.median(levels[-LEVEL_DAYS:])
        early = statistics.median(levels[:LEVEL_DAYS])
        rise_share = None
        days_to = None
        if self.setpoint is not None:
            headroom = self.setpoint - early
            rise_share = (recent - early) / headroom if headroom > 0 else None
            if recent >= self.setpoint:
                days_to = 0.0
            elif slope > 0:
                days_to = (self.setpoint - recent) / slope
        return Trend(
            days_observed=len(days),
            level=recent,
            slope_per_day=slope,
            trend_z=z,
            rise_share=rise_share,
            days_to_setpoint=days_to,
        )

    def _decide(self, at: float) -> Decision | None:
        self.trend = trend = self._trend()
        setpoint = self.setpoint
        if setpoint is None or trend.trend_z is None:
            return None  # a warning already raised stays until a trend says otherwise
        settings = self.settings
        rise = trend.rise_share if trend.rise_share is not None else 0.0
        days_to = trend.days_to_setpoint
        if not self.warning:
            if (
                trend.trend_z >= settings._z_warn
                and rise >= settings.min_rise_share
                and days_to is not None
                # At or past the setpoint it is the alarm's business, not a warning's.
                and 0 < days_to <= settings.horizon_days
            ):
                self.warning = True
                self.warning_since = at
                return Decision(True, at, trend, setpoint)
            return None
        reason = None
        if trend.trend_z < settings._z_clear or days_to is None:
            reason = "no_trend"
        elif days_to > settings.clear_horizon_days:
            reason = "beyond_horizon"
        elif rise < settings.min_rise_share / 2:
            reason = "fell"
        if reason is None:
            return None
        self.warning = False
        self.warning_since = None
        return Decision(False, at, trend, setpoint, reason)

    # ------------------------------------------------------------------ state

    def to_state(self) -> dict[str, Any]:
        """A JSON-ready form, to be restored with :meth:`from_state`."""
        return {
            "version": STATE_VERSION,
            "setpoint": self.setpoint,
            "warning": self.warning,
            "warning_since": self.warning_since,
            "days": [[d, v] for d, v in self._days],
            "day": self._day,
            "medians": list(self._medians),
            "last_at": self._last_at,
        }

    @classmethod
    def from_state(
        cls, settings: EarlyWarningSettings, state: Mapping[str, Any]
    ) -> ChannelBaseline:
        """A baseline as saved (ValueError when the form is not one this code wrote).

        The bucket in progress is not saved: a restart loses at most its quarter hour.
        """
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"state version {state.get('version')!r} is not {STATE_VERSION}")
        baseline = cls(settings)
        try:
            setpoint = state["setpoint"]
            baseline.setpoint = None if setpoint is None else float(setpoint)
            baseline.warning = bool(state["warning"])
            since = state["warning_since"]
            baseline.warning_since = None if since is None else float(since)
            baseline._days = [(int(d), float(v)) for d, v in state["days"]]
            day = state["day"]
            baseline._day = None if day is None else int(day)
            baseline._medians = [float(v) for v in state["medians"]][:BUCKETS_PER_DAY]
            last_at = state["last_at"]
            baseline._last_at = None if last_at is None else float(last_at)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed baseline state: {exc!r}") from None
        # The window may have been shorter or longer when it was saved.
        if baseline._days:
            oldest = baseline._days[-1][0] - settings.window_days + 1
            baseline._days = [(d, v) for d, v in baseline._days if d >= oldest]
        baseline.trend = baseline._trend()
        return baseline
