"""The bridge-resources benchmark runs the bridge process briefly (no timing asserted)."""

from __future__ import annotations

import pytest

from bench.bridge_resources import main

from .conftest import RunBenchmark

# The bridge's API on 127.0.0.1, and its lines on pseudo-terminals.
pytestmark = pytest.mark.usefixtures("socket_enabled")


def test_bridge_resources_prints_name_value_figures(run_benchmark: RunBenchmark) -> None:
    figures = run_benchmark(main, ["--detectors", "2", "--seconds", "1", "--warmup", "0.5"])

    assert figures["detectors_count"] == "2"
    assert figures["lines_count"] == "1"
    assert 0 < float(figures["bridge_rss_mb"]) <= float(figures["bridge_peak_rss_mb"])
    assert float(figures["bridge_cpu_share_of_one_core"]) >= 0
    # The bridge polled the simulated line during the window.
    assert float(figures["bus_transactions_per_s"]) > 0
    assert figures["hass_measured"] == "0"
    assert figures["goal_bridge_peak_rss_mb"] == "80"
