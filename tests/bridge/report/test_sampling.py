"""A running bridge samples its detectors' leakage and temperature into hourly rows."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from electrical_safety_bridge.report.sampling import sample
from electrical_safety_bridge.storage.telemetry_stats import HourlyAccumulator, hour_of

from ..api.conftest import running_bridge
from ..conftest import wait_for

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def test_the_bridge_keeps_hourly_statistics_of_what_it_reads(tmp_path: Path) -> None:
    async with running_bridge(tmp_path) as api:
        api.sim.unit(1).set("residual_current", 123)
        arcm = api.bridge.buses["line"].units["arcm"]

        def read_123() -> bool:
            reading = arcm.readings.get("residual_current")
            return reading is not None and reading.value == 123

        await wait_for(read_123, what="the leakage read")
        # SIM-ARCM: leakage and four temperatures; ASJ: leakage; the unverified ARCM the same.
        now = time.time()
        await wait_for(
            lambda: sample(api.bridge.device_bus, HourlyAccumulator(), now) == 11,
            what="every charted channel read",
        )
        acc = HourlyAccumulator()
        taken = sample(api.bridge.device_bus, acc, now)
        rows = {(r.device_id, r.channel): r for r in acc.drain()}
        assert taken == len(rows) == 11
        assert rows[("arcm", "residual_current")].maximum == 123
        assert ("arcm", "voltage") not in rows  # only leakage and temperature are charted
        # The bridge's own sampler, flushed as at stop, lands in the statistics file.
        assert api.bridge._sampler is not None
        await wait_for(lambda: len(api.bridge._sampler.pending) > 0, what="a first sample")
        await api.bridge._sampler.flush()
        stored = await api.bridge.telemetry.hours(hour_of(now) - 3600, now + 3600)
        assert ("arcm", "residual_current") in {(r.device_id, r.channel) for r in stored}
