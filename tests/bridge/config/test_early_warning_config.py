"""The ``early_warning`` block: defaults, tunables, and errors that name the key."""

from __future__ import annotations

from typing import Any

import pytest

from electrical_safety_bridge.config.bridge_config import ConfigError, parse_config
from electrical_safety_bridge.safety.early_warning import EarlyWarningSettings


def configuration(early_warning: Any = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "data_dir": "/var/lib/bridge",
        "buses": [
            {
                "id": "b",
                "tcp": "127.0.0.1:502",
                "devices": [{"id": "a", "unit": 1, "profile": "ASJ"}],
            }
        ],
    }
    if early_warning is not None:
        data["early_warning"] = early_warning
    return data


def test_without_the_block_the_defaults_apply() -> None:
    config = parse_config(configuration(), "bridge.yaml")
    assert config.early_warning.settings == EarlyWarningSettings()
    assert config.early_warning.time_scale == 1.0


def test_tunables_are_taken() -> None:
    block = {
        "enabled": False,
        "window_days": 42,
        "min_days": 14,
        "horizon_days": 60,
        "clear_horizon_days": 100,
        "significance": 0.05,
        "min_rise_share": 0.3,
        "daily_percentile": 95,
        "time_scale": 86400,
    }
    config = parse_config(configuration(block), "bridge.yaml")
    settings = config.early_warning.settings
    assert (settings.enabled, settings.window_days, settings.min_days) == (False, 42, 14)
    assert (settings.horizon_days, settings.clear_horizon_days) == (60, 100)
    assert (settings.significance, settings.min_rise_share, settings.daily_percentile) == (
        0.05,
        0.3,
        95,
    )
    assert config.early_warning.time_scale == 86400


@pytest.mark.parametrize(
    ("block", "problem"),
    [
        ({"window_days": "four weeks"}, "early_warning.window_days"),
        ({"window_days": 3}, "early_warning.window_days: must be 7-365, not 3"),
        ({"min_days": 40}, "early_warning.min_days: must be at least 5 and at most window_days"),
        ({"horizon_days": 200}, "early_warning.clear_horizon_days: must be more than horizon_days"),
        ({"significance": 0.9}, "early_warning.significance"),
        ({"min_rise_share": 0}, "early_warning.min_rise_share"),
        ({"time_scale": 0.5}, "early_warning.time_scale"),
        ({"windows_days": 28}, "early_warning.windows_days"),
    ],
)
def test_a_bad_tunable_is_named_with_its_value(block: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(configuration(block), "bridge.yaml")
    assert any(problem in line for line in caught.value.problems), caught.value.problems
    assert str(caught.value).startswith("bridge.yaml")
