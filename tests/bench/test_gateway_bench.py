"""The gateway-latency benchmark runs end to end and prints parseable figures (no timing
asserted)."""

from __future__ import annotations

import math

import pytest

from bench.gateway import main

from .conftest import RunBenchmark

# The benchmark serves and connects on 127.0.0.1; pytest-socket blocks that otherwise.
pytestmark = pytest.mark.usefixtures("socket_enabled")


def test_gateway_bench_prints_name_value_figures(run_benchmark: RunBenchmark) -> None:
    figures = run_benchmark(main, ["--reads", "4", "--units", "2"])

    assert figures["reads_per_path_count"] == "4"
    assert figures["simulated_wire_timing_on"] == "1"
    for path in ("direct", "gateway"):
        for quantile in ("p50", "p99"):
            value = float(figures[f"{path}_latency_{quantile}_ms"])
            assert math.isfinite(value)
            assert value > 0
    for quantile in ("p50", "p99"):
        assert math.isfinite(float(figures[f"gateway_added_latency_{quantile}_ms"]))
    # Every measured and warm-up read went through the gateway, and all were answered.
    assert int(figures["gateway_requests_count"]) == 4 + int(
        figures["warmup_reads_per_path_excluded_count"]
    )
    assert figures["gateway_timeouts_count"] == "0"
