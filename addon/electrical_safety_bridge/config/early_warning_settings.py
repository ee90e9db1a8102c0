"""The ``early_warning`` block of the bridge configuration, validated at the edge.

Every key is optional; the defaults are :class:`EarlyWarningSettings`' (see
addon/DOCS.md, "Early warning"). Problems are ``early_warning.<key>: <reason>`` lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import voluptuous as vol

from ..safety.early_warning import EarlyWarningSettings, EarlyWarningSettingsError
from ..validation import finite, integer

_DEFAULTS = EarlyWarningSettings()

EARLY_WARNING_SCHEMA = vol.Schema(
    {
        vol.Optional("enabled"): bool,
        vol.Optional("window_days"): integer,
        vol.Optional("min_days"): integer,
        vol.Optional("horizon_days"): finite,
        vol.Optional("clear_horizon_days"): finite,
        vol.Optional("significance"): finite,
        vol.Optional("min_rise_share"): finite,
        vol.Optional("daily_percentile"): finite,
        # Demonstrations and tests only: how many seconds of the baseline's clock pass in
        # one real second (1 in real use). 86400 makes a day of a second.
        vol.Optional("time_scale"): vol.All(finite, vol.Range(min=1, max=1_000_000)),
    }
)


@dataclass(frozen=True, slots=True)
class EarlyWarningConfig:
    """The tunables, and the clock the service stamps readings with."""

    settings: EarlyWarningSettings = _DEFAULTS
    time_scale: float = 1.0


def early_warning_config(raw: dict[str, Any] | None, problems: list[str]) -> EarlyWarningConfig:
    """The validated block (already through :data:`EARLY_WARNING_SCHEMA`); the keys that
    do not fit together are added to ``problems``, and the defaults returned."""
    given = dict(raw or {})
    time_scale = float(given.pop("time_scale", 1.0))
    try:
        settings = EarlyWarningSettings(**given)
    except EarlyWarningSettingsError as exc:
        problems += [f"early_warning.{line}" for line in exc.problems]
        return EarlyWarningConfig()
    return EarlyWarningConfig(settings, time_scale)
