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
    figures = run_benchmark(
        main, ["--reads", "4", "--units", "2", "--clients", "2", "--client-reads", "2"]
    )

    assert figures["reads_per_path_count"] == "4"
    assert figures["simulated_wire_timing_on"] == "1"
    for situation in ("idle", "polling"):
        for path in ("direct", "gateway"):
            for quantile in ("p50", "p99"):
                value = float(figures[f"{situation}_{path}_latency_{quantile}_ms"])
                assert math.isfinite(value)
                assert value > 0
        for quantile in ("p50", "p99"):
            assert math.isfinite(float(figures[f"{situation}_gateway_added_latency_{quantile}_ms"]))
        assert figures[f"{situation}_gateway_timeouts_count"] == "0"
    # Idle, every measured and warm-up read went through the gateway, and all were answered.
    assert int(figures["idle_gateway_requests_count"]) == 4 + int(
        figures["warmup_reads_per_path_excluded_count"]
    )
    # Each of the clients reading at once has its own p99 (fairness).
    for client in (1, 2):
        assert float(figures[f"gateway_2_clients_client{client}_p99_ms"]) > 0
    assert float(figures["gateway_2_clients_p99_spread_max_over_min"]) >= 1
    # mbusd is measured when a binary is found; its figures come with it.
    if figures["mbusd_measured"] == "1":
        assert math.isfinite(float(figures["idle_mbusd_tuned_added_latency_p50_ms"]))
    assert float(figures["goal_gateway_added_latency_p50_ms"]) == 2
