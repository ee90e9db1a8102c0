"""Shared by the benchmark smoke tests: run a benchmark and read back what it printed."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from typing import TextIO

import pytest

#: What every benchmark prints, one figure a line (see bench/_common.py).
_LINE = re.compile(r"^(?P<name>[a-z][a-z0-9_]*): (?P<value>\S+)$")

BenchMain = Callable[[Sequence[str], TextIO], int]
RunBenchmark = Callable[[BenchMain, Sequence[str]], dict[str, str]]


@pytest.fixture
def run_benchmark() -> RunBenchmark:
    """Run a benchmark's ``main(argv, out)``; its figures by name, each printed once."""

    def run(main: BenchMain, argv: Sequence[str]) -> dict[str, str]:
        out = io.StringIO()
        assert main(argv, out) == 0

        figures: dict[str, str] = {}
        for line in out.getvalue().splitlines():
            match = _LINE.match(line)
            assert match, f"not a 'name: value' line: {line!r}"
            assert match["name"] not in figures, f"{match['name']} printed twice"
            figures[match["name"]] = match["value"]
        return figures

    return run
