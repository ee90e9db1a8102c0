"""The configuration of the proof: the self-test schedule and the inspections tracked.

Kept apart from ``bridge_config.py`` so that its schema pieces plug in with one line each::

    self_test:              # every device, unless a device says otherwise
      every_days: 30        # monthly by default
      at: "10:00"           # local time of day; quote it (YAML reads 10:00 as a number)
      time_limit_s: 30      # optional: only shorter than the standard's (stricter)
    inspections:
      track: [jp_equipment_check, jp_overall_check]   # due dates and overdue repairs
      every_days: {cn_routine_patrol: 7}               # change an interval
    buses:
      - devices:
          - id: arcm-1
            self_test: {every_days: 7, at: "09:30"}     # or {enabled: false}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from typing import Any

import voluptuous as vol

from ..common.enums import InspectionKind
from ..safety.self_tests import (
    DEFAULT_AT,
    DEFAULT_EVERY_DAYS,
    DETECTOR_LIMIT_S,
    SelfTestLimits,
    SelfTestSchedule,
)
from ..validation import finite

_TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
#: At least daily, at most yearly.


def _every_days(value: Any) -> float:
    number = finite(value)
    if not 1 <= number <= 366:
        raise vol.Invalid(f"must be 1-366 days (got {number:g})")
    return number


_EVERY_DAYS = _every_days


def time_of_day(value: Any) -> time:
    """A local time of day written "HH:MM"."""
    if isinstance(value, time):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 10:00 as 600 (base 60).
        raise vol.Invalid(
            f'must be a time of day in quotes, such as "10:00" (got {value}: YAML reads an'
            " unquoted 10:00 as a number)"
        )
    match = _TIME.match(value) if isinstance(value, str) else None
    if match is None:
        raise vol.Invalid(f'must be a time of day HH:MM, such as "10:00" (got {value!r})')
    return time(int(match.group(1)), int(match.group(2)))


def _time_limit(value: Any) -> float:
    number = finite(value)
    if not 0 < number <= DETECTOR_LIMIT_S:
        raise vol.Invalid(
            f"must be more than 0 and at most {DETECTOR_LIMIT_S:g} s: the standard's time"
            f" (GB 50166) may only be made stricter (got {number:g})"
        )
    return number


def _inspection_kind(value: Any) -> InspectionKind:
    try:
        return InspectionKind(value)
    except ValueError:
        known = ", ".join(k.value for k in InspectionKind)
        raise vol.Invalid(f"must be one of {known} (got {value!r})") from None


#: The ``self_test:`` block of the bridge configuration.
SELF_TEST_SCHEMA = vol.Schema(
    {
        vol.Optional("every_days", default=DEFAULT_EVERY_DAYS): _EVERY_DAYS,
        vol.Optional("at", default=DEFAULT_AT.strftime("%H:%M")): time_of_day,
        vol.Optional("time_limit_s"): _time_limit,
    }
)

#: A device's ``self_test:`` (what it leaves out comes from the bridge's block).
DEVICE_SELF_TEST_SCHEMA = vol.Schema(
    {
        vol.Optional("every_days"): _EVERY_DAYS,
        vol.Optional("at"): time_of_day,
        vol.Optional("enabled", default=True): bool,
    }
)

#: The ``inspections:`` block.
INSPECTIONS_SCHEMA = vol.Schema(
    {
        vol.Optional("track", default=list): [_inspection_kind],
        vol.Optional("every_days", default=dict): {_inspection_kind: _EVERY_DAYS},
    }
)


@dataclass(frozen=True, slots=True)
class ProofConfig:
    """Self-test schedules and the inspections tracked."""

    self_test: SelfTestSchedule = field(default_factory=SelfTestSchedule)
    #: Devices whose schedule differs from ``self_test``.
    devices: Mapping[str, SelfTestSchedule] = field(default_factory=dict)
    limits: SelfTestLimits = field(default_factory=SelfTestLimits)
    #: The inspections whose due dates are tracked (and raise a repair when passed).
    inspections: tuple[InspectionKind, ...] = ()
    inspection_every_days: Mapping[InspectionKind, float] = field(default_factory=dict)

    def schedule_of(self, device_id: str) -> SelfTestSchedule:
        """A device's schedule."""
        return self.devices.get(device_id, self.self_test)


def proof_config(
    self_test: Mapping[str, Any] | None,
    inspections: Mapping[str, Any] | None,
    devices: Mapping[str, Mapping[str, Any]],
) -> ProofConfig:
    """The validated blocks (``self_test``, ``inspections``, each device's ``self_test``)
    as a :class:`ProofConfig`."""
    block = SELF_TEST_SCHEMA(dict(self_test or {}))
    default = SelfTestSchedule(every_days=block["every_days"], at=block["at"])
    limit = block.get("time_limit_s")
    limits = (
        SelfTestLimits() if limit is None else SelfTestLimits(detector_s=limit, temperature_s=limit)
    )
    per_device = {
        device_id: SelfTestSchedule(
            every_days=own.get("every_days", default.every_days),
            at=own.get("at", default.at),
            enabled=own.get("enabled", True),
        )
        for device_id, own in devices.items()
    }
    tracked = INSPECTIONS_SCHEMA(dict(inspections or {}))
    return ProofConfig(
        self_test=default,
        devices=per_device,
        limits=limits,
        inspections=tuple(dict.fromkeys(tracked["track"])),
        inspection_every_days=dict(tracked["every_days"]),
    )
