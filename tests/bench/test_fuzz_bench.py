"""The fuzzers run as benchmarks (bench/fuzz_*.py) print their case count and findings as
``name: value`` lines, and exit 0 when nothing was found."""

from __future__ import annotations

import pytest

from bench import fuzz_api, fuzz_gateway, fuzz_profiles, fuzz_relay, fuzz_websocket
from bench._fuzz import Report

from .conftest import BenchMain, RunBenchmark

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.mark.parametrize(
    ("target", "main"),
    [
        ("gateway", fuzz_gateway.main),
        ("api", fuzz_api.main),
        ("profiles", fuzz_profiles.main),
        ("relay", fuzz_relay.main),
        ("websocket", fuzz_websocket.main),
    ],
)
def test_fuzz_bench_prints_its_case_count(
    run_benchmark: RunBenchmark, target: str, main: BenchMain
) -> None:
    figures = run_benchmark(main, ["--cases", "12", "--seed", "5"])
    assert figures[f"fuzz_{target}_cases_count"] == "12"
    assert figures[f"fuzz_{target}_findings_count"] == "0"


def test_a_finding_prints_as_one_name_value_line() -> None:
    report = Report("gateway", cases=3)
    report.found("hang", b"\x01\x03 \x00", "no answer in 10 s")
    report.found("server_error", 'POST /x {"who": "a b"}', "500: internal")
    lines = dict(report.figures(1.0))
    assert lines["fuzz_gateway_findings_count"] == "2"
    assert lines["fuzz_gateway_finding_1_hang"] == "01032000#no%20answer%20in%2010%20s"
    assert " " not in lines["fuzz_gateway_finding_2_server_error"]
