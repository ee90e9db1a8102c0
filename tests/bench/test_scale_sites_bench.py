"""The thousand-sites benchmark runs end to end with a handful of sites (no timing asserted)."""

from __future__ import annotations

import pytest

from bench.scale_sites import main

from .conftest import RunBenchmark

# A real Mosquitto on 127.0.0.1, and the sites and consumers in child processes.
pytestmark = pytest.mark.usefixtures("socket_enabled")


def test_scale_sites_prints_name_value_figures(run_benchmark: RunBenchmark) -> None:
    figures = run_benchmark(
        main,
        [
            "--sites",
            "4",
            "--events",
            "3",
            "--duplicate-every",
            "2",
            "--consumers",
            "2",
            "--publishers",
            "2",
        ],
    )

    assert figures["scale_sites_count"] == "4"
    # Every event the sites had PUBACKed reached the landlord's table once, in each phase.
    assert figures["scale_live_events_acked_count"] == "12"
    assert figures["scale_live_publish_failures_count"] == "0"
    for phase in ("live", "one", "shared"):
        assert figures[f"scale_{phase}_stored_rows_count"] == "12"
    for phase in ("live", "shared"):
        assert figures[f"scale_{phase}_loss_count"] == "0"
        assert figures[f"scale_{phase}_unexpected_ids_count"] == "0"
    # The sites sent duplicates (every 2nd event again), the table still has one row each.
    assert figures["scale_shared_duplicates_sent_by_sites_count"] == "8"
    assert int(figures["scale_live_deliveries_count"]) >= 12
    assert float(figures["scale_one_consumer_saturates_at_events_per_s"]) > 0
    assert float(figures["scale_shared_events_per_s_first_half"]) > 0
    assert figures["goal_scale_live_loss_count"] == "0"
