"""`make bench`'s runner finds every benchmark and writes RESULTS.md from their figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import run_all


def test_discovers_known_benchmarks_first_then_any_other(tmp_path: Path) -> None:
    for name in ("_common", "run_all", "relay", "bus_sweep", "fuzz_frames", "fault_soak"):
        (tmp_path / f"{name}.py").write_text("")

    assert run_all.discover(tmp_path) == ["bus_sweep", "relay", "fault_soak", "fuzz_frames"]
    # The real folder: every benchmark of this repository is found.
    assert {"bus_sweep", "gateway", "relay", "scale_sites", "bridge_resources"} <= set(
        run_all.discover()
    )


def test_results_pair_each_figure_with_its_goal() -> None:
    outcome = run_all.Outcome(
        "example",
        ["python", "bench/example.py", "--fast"],
        figures=[
            ("idle_gateway_added_latency_p50_ms", "1.5"),
            ("polling_gateway_added_latency_p50_ms", "2.5"),
            ("goal_gateway_added_latency_p50_ms", "2"),
            ("relay_sustained_events_per_s", "2500"),
            ("goal_relay_sustained_events_per_s", "2000"),
            ("units_count", "16"),
        ],
        status=0,
    )
    skipped = run_all.Outcome("alarm_latency", [], skipped="no hass")

    text = run_all.render(
        [outcome, skipped], "1.00", "2.00", "2026-11-30 08:00", note="eight other jobs ran"
    )

    assert "| idle_gateway_added_latency_p50_ms | 1.5 | 2 | yes (≤) |" in text
    assert "| polling_gateway_added_latency_p50_ms | 2.5 | 2 | **no** (≤) |" in text
    assert "| relay_sustained_events_per_s | 2500 | 2000 | yes (≥) |" in text
    assert "| units_count | 16 |  |  |" in text
    assert "Arguments: `--fast`." in text
    assert "| alarm_latency | skipped: no hass | 0 |" in text
    assert "cores" in text and "Python" in text and "Load average" in text
    assert "- Note: eight other jobs ran" in text


@pytest.mark.usefixtures("socket_enabled")
def test_runs_a_benchmark_and_writes_the_results(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    status = run_all.main(
        [
            "--only",
            "bus_sweep",
            "--args",
            "bus_sweep=--units 1 --sweeps 1",
            "--results",
            str(results),
            "--logs",
            str(tmp_path / "logs"),
            "--quiet",
        ]
    )

    assert status == 0
    text = results.read_text(encoding="utf-8")
    assert "## bus_sweep" in text
    assert "| bus_units_count | 1 |" in text
    assert "| sweep_to_wire_ratio |" in text
