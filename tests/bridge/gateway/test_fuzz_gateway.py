"""The Modbus gateway fuzzed (bench/fuzz_gateway.py): a bounded, seeded run over both
listeners of a read-only and a writing gateway in front of a real bus on simulated units."""

from __future__ import annotations

import pytest

from bench._fuzz import FuzzConfig
from bench.fuzz_gateway import fuzz

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def test_fuzz_gateway_bounded_run() -> None:
    report = await fuzz(FuzzConfig(cases=160, seed=14))
    assert report.cases == 160
    assert report.findings == []
    # The run reached the line, the device's own answers and the gateway's refusals.
    assert report.counts["normal_answers"] > 0
    assert report.counts["exception_01"] > 0
    assert report.counts["exception_03"] > 0
    assert report.counts["line_requests"] > 0
