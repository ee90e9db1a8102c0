"""The bus-sweep benchmark runs end to end and prints parseable figures (no timing asserted)."""

from __future__ import annotations

import math

from bench.bus_sweep import main

from .conftest import RunBenchmark


def test_bus_sweep_prints_name_value_figures(run_benchmark: RunBenchmark) -> None:
    figures = run_benchmark(main, ["--units", "2", "--sweeps", "1"])

    assert figures["bus_units_count"] == "2"
    assert figures["simulated_wire_timing_on"] == "1"
    assert float(figures["transactions_per_sweep"]) > 0
    ratio = float(figures["sweep_to_wire_ratio"])
    assert math.isfinite(ratio)
    assert ratio > 0
    assert float(figures["goal_sweep_to_wire_ratio"]) == 1.1
    # The limit is counted from the bus's ledger and again from the bytes on the pty: the
    # two agree, or the ratio would compare different frames.
    assert math.isclose(
        float(figures["wire_limit_per_sweep_s"]),
        float(figures["wire_limit_from_line_bytes_per_sweep_s"]),
        abs_tol=2e-4,  # both printed to 0.1 ms
    )
    assert figures["timeouts_per_sweep"] == "0"
