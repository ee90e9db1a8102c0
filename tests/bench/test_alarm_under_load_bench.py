"""The alarm-under-load benchmark runs end to end and prints its figures (no timing asserted)."""

from __future__ import annotations

import math

import pytest

from bench.alarm_under_load import main

from .conftest import RunBenchmark

pytestmark = pytest.mark.usefixtures("socket_enabled")


def test_alarm_under_load_prints_name_value_figures(run_benchmark: RunBenchmark) -> None:
    figures = run_benchmark(
        main, ["--units", "2", "--clients", "2", "--alarms", "2", "--no-wire-timing"]
    )

    assert figures["units_count"] == "2"
    assert figures["gateway_clients_count"] == "2"
    # Every alarm was seen, with and without the clients, and the clients were served.
    assert figures["alarms_missed_no_clients_count"] == "0"
    assert figures["alarms_missed_with_clients_count"] == "0"
    assert int(figures["gateway_answers_min_per_client_count"]) > 0
    for name in ("alarm_latency_p99_s_no_clients", "alarm_latency_p99_s_with_clients"):
        assert math.isfinite(float(figures[name]))
    assert float(figures["alarm_bound_s"]) > float(figures["alarm_round_s"])
