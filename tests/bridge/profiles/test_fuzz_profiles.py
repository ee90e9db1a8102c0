"""The profile loader fuzzed (bench/fuzz_profiles.py): a bounded, seeded run of mutated
built-in profiles, random structures and hostile YAML, each read as a user's file."""

from __future__ import annotations

from bench._fuzz import FuzzConfig
from bench.fuzz_profiles import fuzz


async def test_fuzz_profiles_bounded_run() -> None:
    report = await fuzz(FuzzConfig(cases=200, seed=14))
    assert report.cases == 200
    assert report.findings == []
    assert report.counts["refused"] > 0
    assert report.counts["loaded"] > 0  # some mutations keep a valid profile
