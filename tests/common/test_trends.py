"""The early-warning wire model: what a client reads of GET /early-warnings and the events."""

from __future__ import annotations

import pytest

from electrical_safety_bridge.common.enums import ChannelKind
from electrical_safety_bridge.common.trends import ChannelTrend

RAW = {
    "device_id": "kitchen",
    "channel": "residual_current",
    "kind": "residual_current",
    "unit": "mA",
    "setpoint": 300.0,
    "level": 94.5,
    "slope_per_day": 3.04,
    "days_to_setpoint": 67.6,
    "days_observed": 21,
    "days_needed": 10,
    "warning": True,
    "since": 1767225600.0,
}


def test_a_channel_trend_round_trips_and_keeps_what_it_does_not_know() -> None:
    trend = ChannelTrend.from_dict(RAW | {"reason": "fell"})
    assert trend.kind == ChannelKind.RESIDUAL_CURRENT and trend.warning
    assert trend.to_dict() == RAW | {"reason": "fell"}


def test_a_newer_kind_is_kept_as_text_and_unknowns_are_none() -> None:
    trend = ChannelTrend.from_dict(
        {"device_id": "d", "channel": "c", "kind": "humidity", "warning": "yes"}
    )
    assert trend.kind == "humidity"
    assert (trend.setpoint, trend.days_to_setpoint, trend.warning) == (None, None, False)


@pytest.mark.parametrize("missing", ["device_id", "channel", "kind"])
def test_what_names_the_channel_is_required(missing: str) -> None:
    with pytest.raises(ValueError, match=missing):
        ChannelTrend.from_dict({k: v for k, v in RAW.items() if k != missing})
