"""The relay benchmark runs end to end with small numbers and prints parseable figures."""

from __future__ import annotations

import io
import math
import re

import pytest

from bench.relay import main

pytestmark = pytest.mark.usefixtures("socket_enabled")

_LINE = re.compile(r"^(?P<name>[a-z][a-z0-9_]*): (?P<value>\S+)$")


def test_relay_bench_prints_name_value_figures() -> None:
    out = io.StringIO()
    args = ["--events", "300", "--backlog", "500", "--alarms", "20", "--alarm-interval", "0"]
    assert main(args, out=out) == 0

    figures: dict[str, str] = {}
    for line in out.getvalue().splitlines():
        match = _LINE.match(line)
        assert match, f"not a 'name: value' line: {line!r}"
        assert match["name"] not in figures, f"{match['name']} printed twice"
        figures[match["name"]] = match["value"]

    assert figures["relay_throughput_events_count"] == "300"
    assert figures["relay_backlog_events_count"] == "500"
    assert figures["relay_backlog_published_count"] == "500"
    assert figures["relay_alarm_latency_count"] == "20"
    for name in (
        "relay_sustained_events_per_s",
        "relay_backlog_drain_s",
        "relay_backlog_drain_events_per_s",
        "relay_alarm_latency_p50_s",
        "relay_alarm_latency_p99_s",
    ):
        value = float(figures[name])
        assert math.isfinite(value) and value >= 0, name
    assert float(figures["goal_relay_sustained_events_per_s"]) == 2000
    assert float(figures["goal_relay_backlog_drain_s"]) == 60
    assert float(figures["goal_relay_alarm_latency_p99_s"]) == 0.5
