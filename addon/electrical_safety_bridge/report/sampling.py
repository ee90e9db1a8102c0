"""Feeding the hourly statistics: the bridge samples its detectors' leakage and temperature.

Every ``SAMPLE_EVERY_S`` the latest reading of each charted channel of each online detector
is folded into the hour it falls in; every ``FLUSH_EVERY_S`` (and when the bridge stops) the
folded hours are merged into the statistics file. Sampling the held readings, rather than
hooking the bus, keeps the bus engine untouched and weighs every stretch of time the same
whatever the poll interval.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..storage.telemetry_stats import AsyncTelemetryStats, HourlyAccumulator
from .collect import CHARTED_KINDS

if TYPE_CHECKING:
    from ..bus.scheduler import Bus

_LOGGER = logging.getLogger(__name__)

SAMPLE_EVERY_S = 10.0
FLUSH_EVERY_S = 300.0


def sample(device_bus: Mapping[str, Bus], into: HourlyAccumulator, now: float) -> int:
    """Fold the current readings of every charted channel in; returns how many."""
    taken = 0
    for device_id, bus in device_bus.items():
        unit = bus.units[device_id]
        if not unit.online:
            continue
        for channel in unit.spec.profile.channels:
            if str(channel.kind) not in CHARTED_KINDS:
                continue
            reading = unit.readings.get(channel.key)
            value = None if reading is None else reading.value
            if isinstance(value, int | float) and not isinstance(value, bool):
                into.add(device_id, channel.key, value, now)
                taken += 1
    return taken


class TelemetrySampler:
    """The sampling task of one bridge."""

    def __init__(
        self,
        device_bus: Mapping[str, Bus],
        stats: AsyncTelemetryStats,
        *,
        every_s: float = SAMPLE_EVERY_S,
        flush_every_s: float = FLUSH_EVERY_S,
    ) -> None:
        self._device_bus = device_bus
        self._stats = stats
        self._every_s = every_s
        self._flush_every_s = flush_every_s
        self.pending = HourlyAccumulator()

    async def run(self) -> None:
        """Sample and flush until cancelled."""
        last_flush = time.monotonic()
        while True:
            sample(self._device_bus, self.pending, time.time())
            if time.monotonic() - last_flush >= self._flush_every_s:
                last_flush = time.monotonic()
                await self.flush()
            await asyncio.sleep(self._every_s)

    async def flush(self) -> None:
        """Merge what is folded so far into the file (a failure is logged, not raised:
        statistics never stop the bridge)."""
        rows = self.pending.drain()
        if not rows:
            return
        try:
            await self._stats.merge(rows)
        except Exception as exc:
            _LOGGER.warning("could not store %d hourly telemetry rows: %s", len(rows), exc)
