"""The gateway-latency benchmark runs end to end and prints parseable figures (no timing
asserted)."""

from __future__ import annotations

import io
import math
import re

import pytest

from bench.gateway import main

# The benchmark serves and connects on 127.0.0.1; pytest-socket blocks that otherwise.
pytestmark = pytest.mark.usefixtures("socket_enabled")

_LINE = re.compile(r"^(?P<name>[a-z][a-z0-9_]*): (?P<value>\S+)$")


def test_gateway_bench_prints_name_value_figures() -> None:
    out = io.StringIO()
    assert main(["--reads", "4", "--units", "2"], out=out) == 0

    figures: dict[str, str] = {}
    for line in out.getvalue().splitlines():
        match = _LINE.match(line)
        assert match, f"not a 'name: value' line: {line!r}"
        assert match["name"] not in figures, f"{match['name']} printed twice"
        figures[match["name"]] = match["value"]

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
