"""Early warning on synthetic series: weeks of readings with their own timestamps, fed in
a moment. Every series is seeded, so a failure replays exactly."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from electrical_safety_bridge.safety.early_warning import (
    DAY_S,
    ChannelBaseline,
    Decision,
    EarlyWarningSettings,
    EarlyWarningSettingsError,
    mann_kendall_z,
    percentile,
    sen_slope,
)

START = 1_767_225_600.0  # 2026-01-01T00:00:00Z, a day boundary
STEP_S = 300.0
#: A series: the value at this many days since START, given a seeded random source.
Series = Callable[[float, random.Random], float]


def afternoon(day: float) -> float:
    """0 at night, 1 at 15:00: a daily load cycle."""
    return max(0.0, math.sin(2 * math.pi * ((day % 1.0) - 0.375) + math.pi / 2)) ** 2


def leakage_ageing(day: float, rng: random.Random) -> float:
    """Insulation ageing: 30 mA creeping up to 200 mA over 8 weeks, noise, a load cycle."""
    return 30 + 170 * min(day, 56) / 56 + 6 * afternoon(day) + rng.gauss(0, 3)


def leakage_noise(day: float, rng: random.Random) -> float:
    return 30 + rng.gauss(0, 5)


def temperature_load_cycle(day: float, rng: random.Random) -> float:
    """A cable that warms every afternoon by 20 °C, with no trend."""
    return 28 + 20 * afternoon(day) + rng.gauss(0, 0.5)


def leakage_spike(day: float, rng: random.Random) -> float:
    """Steady, with one reading near the setpoint on day 30 and a ten-minute burst on day 40."""
    spike = 290 if abs(day - 30.5) < STEP_S / DAY_S / 2 else 0
    burst = 250 if 40.5 <= day < 40.5 + 600 / DAY_S else 0
    return max(30 + rng.gauss(0, 3), spike, burst)


def temperature_rising(day: float, rng: random.Random) -> float:
    """A loosening terminal: the afternoon peak climbs from 48 °C to 63 °C over six weeks."""
    return 28 + 20 * afternoon(day) * (1 + 0.75 * min(day, 42) / 42) + rng.gauss(0, 0.5)


def temperature_seasonal(day: float, rng: random.Random) -> float:
    """Spring into summer: +0.1 °C a day, far from the setpoint at that pace."""
    return 28 + 0.1 * day + 20 * afternoon(day) + rng.gauss(0, 0.5)


def leakage_fault(day: float, rng: random.Random) -> float:
    """A sudden fault on day 30: past the setpoint at once, an alarm and not a trend."""
    return (30 if day < 30 else 420) + rng.gauss(0, 3)


def repaired(day: float, rng: random.Random) -> float:
    """Ageing for six weeks, then the faulty circuit is repaired: back to 30 mA."""
    if day < 42:
        return 30 + 170 * day / 42 + rng.gauss(0, 3)
    return 30 + rng.gauss(0, 3)


@dataclass(frozen=True)
class Run:
    decisions: list[tuple[float, Decision]]  # (day since START, decision)
    baseline: ChannelBaseline

    @property
    def raised(self) -> list[tuple[float, Decision]]:
        return [(day, d) for day, d in self.decisions if d.warning]

    @property
    def cleared(self) -> list[tuple[float, Decision]]:
        return [(day, d) for day, d in self.decisions if not d.warning]


def feed(
    series: Series,
    days: float,
    setpoint: float | None,
    *,
    seed: int = 7,
    baseline: ChannelBaseline | None = None,
    start_day: float = 0.0,
) -> Run:
    rng = random.Random(seed)
    baseline = baseline or ChannelBaseline(EarlyWarningSettings())
    decisions = []
    steps = int((days - start_day) * DAY_S / STEP_S)
    for step in range(steps):
        day = start_day + step * STEP_S / DAY_S
        decision = baseline.add(START + day * DAY_S, series(day, rng), setpoint)
        if decision is not None:
            decisions.append((day, decision))
    return Run(decisions, baseline)


@pytest.mark.parametrize(
    ("series", "days", "setpoint"),
    [
        pytest.param(leakage_noise, 70, 300, id="noise"),
        pytest.param(temperature_load_cycle, 70, 70, id="daily load cycle"),
        pytest.param(leakage_spike, 70, 300, id="single spike and a short burst"),
        pytest.param(temperature_seasonal, 70, 70, id="slow seasonal drift, beyond the horizon"),
        pytest.param(leakage_ageing, 70, None, id="no setpoint known, nothing to project to"),
        pytest.param(leakage_fault, 45, 300, id="a sudden fault past the setpoint: the alarm's"),
    ],
)
def test_no_warning_without_a_rise_towards_the_setpoint(
    series: Series, days: float, setpoint: float | None
) -> None:
    run = feed(series, days, setpoint)
    assert run.decisions == []
    assert not run.baseline.warning


class Noiseless(random.Random):
    """The series as it would be without noise: for the expected value only."""

    def gauss(self, mu: float = 0.0, sigma: float = 1.0) -> float:
        return mu


def true_days_to_setpoint(series: Series, end_day: int, setpoint: float) -> float:
    """Days left at ``end_day`` by the noiseless series' own daily levels (the 90th
    percentile of each day) and their rise over the last week."""

    def level(day: int) -> float:
        steps = int(DAY_S / STEP_S)
        return percentile([series(day + i / steps, Noiseless()) for i in range(steps)], 90)

    last = level(end_day - 1)
    slope = (last - level(end_day - 8)) / 7
    return (setpoint - last) / slope


@pytest.mark.parametrize(
    ("series", "setpoint", "first_warning_by_day", "end_day"),
    [
        # 30 → 200 mA over 8 weeks, setpoint 300 mA: at day 56 the level is about 200 mA
        # and rises 170/56 ≈ 3 mA a day, so about 33 days are left.
        pytest.param(leakage_ageing, 300, 30, 56, id="insulation ageing"),
        # The afternoon peak 48 → 63 °C over 6 weeks, setpoint 70 °C.
        pytest.param(temperature_rising, 70, 35, 42, id="temperature rising"),
    ],
)
def test_a_rise_over_weeks_warns_with_the_projected_days(
    series: Series, setpoint: float, first_warning_by_day: float, end_day: int
) -> None:
    true_days_at = true_days_to_setpoint(series, end_day, setpoint)
    run = feed(series, end_day + 0.01, setpoint)
    assert len(run.raised) == 1, run.decisions
    assert run.cleared == []
    day, decision = run.raised[0]
    assert day <= first_warning_by_day, "warned weeks before the setpoint, not days"
    assert decision.trend.level is not None and decision.trend.level < setpoint
    assert decision.setpoint == setpoint
    assert decision.trend.days_to_setpoint is not None
    assert decision.trend.days_to_setpoint > end_day - day, "projected past the series' end"
    now = run.baseline.trend
    assert run.baseline.warning
    assert now.days_to_setpoint == pytest.approx(true_days_at, rel=0.3)
    assert now.slope_per_day is not None and now.slope_per_day > 0


def test_a_fall_after_a_repair_clears_the_warning() -> None:
    run = feed(repaired, 56, 300)
    assert [d.warning for _, d in run.decisions] == [True, False]
    (raised_day, _), (cleared_day, cleared) = run.decisions
    assert raised_day < 42 <= cleared_day <= 42 + 4, "cleared within days of the repair"
    assert cleared.reason == "fell"
    assert not run.baseline.warning


def test_a_raised_setpoint_clears_the_warning_at_once() -> None:
    run = feed(leakage_ageing, 50, 300)
    assert run.baseline.warning
    decision = run.baseline.add(START + 50 * DAY_S + 60, 180.0, 1000.0)
    assert decision is not None and not decision.warning
    assert decision.reason == "beyond_horizon"


def test_a_restored_baseline_decides_as_one_that_never_stopped() -> None:
    whole = feed(leakage_ageing, 56, 300)
    first = feed(leakage_ageing, 20, 300)
    state = first.baseline.to_state()
    restored = ChannelBaseline.from_state(EarlyWarningSettings(), state)
    # The same seeded stream, resumed where the first run stopped.
    rng = random.Random(7)
    decisions = list(first.decisions)
    steps = int(56 * DAY_S / STEP_S)
    for step in range(steps):
        day = step * STEP_S / DAY_S
        value = leakage_ageing(day, rng)
        if day < 20:
            continue
        decision = restored.add(START + day * DAY_S, value, 300)
        if decision is not None:
            decisions.append((day, decision))
    assert [(round(d, 3), x.warning) for d, x in decisions] == [
        (round(d, 3), x.warning) for d, x in whole.decisions
    ]
    assert restored.warning and restored.trend == whole.baseline.trend


def test_the_state_stays_bounded_over_a_year() -> None:
    run = feed(leakage_noise, 365, 300)
    state = run.baseline.to_state()
    assert len(state["days"]) == EarlyWarningSettings().window_days
    assert len(state["medians"]) <= 96


def test_readings_from_the_past_are_ignored() -> None:
    baseline = ChannelBaseline(EarlyWarningSettings())
    baseline.add(START + 1000, 30, 300)
    assert baseline.add(START + 10, 999, 300) is None
    assert baseline.to_state()["last_at"] == START + 1000


@pytest.mark.parametrize(
    ("state", "problem"),
    [
        ({"version": 99}, "state version 99"),
        ({"version": 1, "setpoint": "x"}, "malformed"),
    ],
)
def test_a_state_this_code_did_not_write_is_refused(state: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        ChannelBaseline.from_state(EarlyWarningSettings(), state)


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"window_days": 3}, "window_days"),
        ({"min_days": 40}, "min_days"),
        ({"min_days": 2}, "min_days"),
        ({"horizon_days": 0}, "horizon_days"),
        ({"clear_horizon_days": 60}, "clear_horizon_days"),
        ({"significance": 0.5}, "significance"),
        ({"min_rise_share": 1.5}, "min_rise_share"),
        ({"daily_percentile": 20}, "daily_percentile"),
    ],
)
def test_settings_that_do_not_fit_name_their_key(changes: dict[str, float], key: str) -> None:
    with pytest.raises(EarlyWarningSettingsError, match=f"^{key}: "):
        EarlyWarningSettings(**changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("values", "expected_slope", "rising"),
    [
        ([1, 2, 3, 4, 5, 6, 7, 8], 1.0, True),
        ([8, 7, 6, 5, 4, 3, 2, 1], -1.0, False),
        ([1, 2, 3, 100, 5, 6, 7, 8], 1.0, True),  # one outlier moves neither
        ([5, 5, 5, 5, 5, 5, 5, 5], 0.0, False),
    ],
)
def test_sen_slope_and_mann_kendall_ignore_outliers(
    values: list[float], expected_slope: float, rising: bool
) -> None:
    points = [(float(i), float(v)) for i, v in enumerate(values)]
    assert sen_slope(points) == pytest.approx(expected_slope)
    assert (mann_kendall_z(values) > 2.33) is rising


def test_percentile_interpolates() -> None:
    assert percentile([1, 2, 3, 4, 5], 50) == 3
    assert percentile([0, 10], 90) == pytest.approx(9)
