"""What the fuzzers share: a finding, a run's report, seeded mutation, and the output.

Each fuzz target (``bench/fuzz_*.py``) feeds one of the bridge's inputs generated and mutated
cases from a seed, against the real part (a running gateway, bridge or relay), and judges
each case by the same oracle: no crash, no hang (every answer within a bound), no 5xx, a
clear error for each bad input, and the part still answers a valid request afterwards.
What breaks it is a :class:`Finding`. ``make test`` runs every target briefly with a fixed
seed (tests/fuzz); the benchmarks run them long and print, in the ``name: value`` form of
``bench/_common.py``, the case count and every finding, its input quoted without spaces.

The generators draw from a ``random.Random(seed)`` rather than from Hypothesis: a long run
wants a case count and a seed that repeats it, not shrinking, and every finding carries the
input that caused it.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import urllib.parse
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TextIO

from bench._common import argument_parser

#: A run stops after this many findings.
MAX_FINDINGS: Final = 20
#: ... or after this many findings that the part stopped answering, each of which waited
#: its whole bound.
MAX_BROKEN_FINDINGS: Final = 3
_BROKEN_KINDS: Final = frozenset({"hang", "unresponsive", "events_not_stored"})
#: Longest quoted input printed with a finding.
_SHOWN_BYTES: Final = 300


@dataclass(frozen=True, slots=True)
class Finding:
    """One input that broke the oracle: what kind of failure, on what input, and how."""

    kind: str  # crash, hang, server_error, unclear_error, unresponsive, write_reached_unit...
    case: str  # the input, quoted without spaces (see quote())
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail} (input {self.case})"


@dataclass(slots=True)
class Report:
    """A run of one target: how many cases it tried and what broke."""

    target: str
    cases: int = 0
    findings: list[Finding] = field(default_factory=list)
    #: Other counts worth printing (answers by kind, and so on), in print order.
    counts: dict[str, int] = field(default_factory=dict)

    def found(self, kind: str, case: bytes | str, detail: str) -> None:
        """Record a finding on ``case``."""
        self.findings.append(Finding(kind, quote(case), detail))

    @property
    def enough(self) -> bool:
        """Whether a run should stop: once the part is broken, every further case tends to
        find the same (and waits its bound each time)."""
        broken = sum(1 for finding in self.findings if finding.kind in _BROKEN_KINDS)
        return len(self.findings) >= MAX_FINDINGS or broken >= MAX_BROKEN_FINDINGS

    def count(self, name: str, by: int = 1) -> None:
        """Add to one of the run's counts."""
        self.counts[name] = self.counts.get(name, 0) + by

    def figures(self, seconds: float) -> list[tuple[str, str]]:
        """The ``name: value`` lines of the run: counts, then each finding on its own."""
        prefix = f"fuzz_{self.target}"
        lines = [
            (f"{prefix}_cases_count", str(self.cases)),
            (f"{prefix}_findings_count", str(len(self.findings))),
            (f"{prefix}_run_s", f"{seconds:.1f}"),
        ]
        lines += [(f"{prefix}_{name}_count", str(value)) for name, value in self.counts.items()]
        lines += [
            (f"{prefix}_finding_{index}_{finding.kind}", f"{finding.case}#{quote(finding.detail)}")
            for index, finding in enumerate(self.findings, 1)
        ]
        return lines


def quote(case: bytes | str) -> str:
    """An input as one word: bytes as hex, text percent-encoded; long ones cut."""
    if isinstance(case, bytes):
        shown = case[:_SHOWN_BYTES].hex()
        cut = len(case) > _SHOWN_BYTES
    else:
        shown = urllib.parse.quote(case[:_SHOWN_BYTES], safe="")
        cut = len(case) > _SHOWN_BYTES
    return f"{shown}...({len(case)})" if cut else shown or "''"


# --------------------------------------------------------------------------- mutation


def flip_bits(rng: random.Random, data: bytes, flips: int = 1) -> bytes:
    """``data`` with ``flips`` random bits inverted."""
    if not data:
        return data
    out = bytearray(data)
    for _ in range(flips):
        index = rng.randrange(len(out))
        out[index] ^= 1 << rng.randrange(8)
    return bytes(out)


def truncate(rng: random.Random, data: bytes) -> bytes:
    """A strict prefix of ``data`` (empty possible)."""
    return data[: rng.randrange(len(data))] if data else data


def random_bytes(rng: random.Random, low: int = 0, high: int = 64) -> bytes:
    """Between ``low`` and ``high`` random bytes."""
    return rng.randbytes(rng.randint(low, high))


def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    """One random byte-level mutation: flip, truncate, insert, delete, duplicate, splice."""
    choice = rng.randrange(7)
    if choice == 0:
        return flip_bits(rng, data, rng.randint(1, 4))
    if choice == 1:
        return truncate(rng, data)
    if choice == 2 and data:
        index = rng.randrange(len(data) + 1)
        return data[:index] + random_bytes(rng, 1, 8) + data[index:]
    if choice == 3 and data:
        index = rng.randrange(len(data))
        return data[:index] + data[index + rng.randint(1, 4) :]
    if choice == 4:
        return data + data
    if choice == 5 and data:
        index = rng.randrange(len(data))
        return data[:index] + bytes([rng.choice((0x00, 0xFF, 0x7F, 0x80))]) + data[index + 1 :]
    return data + random_bytes(rng, 1, 16)


#: Values that break parsers: edges of integer sizes, odd floats, odd strings, odd shapes.
INTERESTING_VALUES: Final[tuple[Any, ...]] = (
    None,
    True,
    False,
    0,
    -1,
    1,
    255,
    256,
    65535,
    65536,
    -(2**31),
    2**31 - 1,
    2**63 - 1,
    2**63,
    -(2**63) - 1,
    10**30,
    10**400,
    0.5,
    -0.0,
    1e308,
    1e-308,
    float("inf"),
    float("-inf"),
    float("nan"),
    "",
    " ",
    "x" * 5000,
    "\u0000",
    "\u202e",  # a right-to-left override
    "\ud800",  # a lone surrogate: valid in JSON text as an escape, not in UTF-8
    "ß\u00e9漢字",
    "0x10",
    "1e3",
    "null",
    "true",
    "../../etc/passwd",
    "%s%n",
    [],
    {},
    [None],
    {"": None},
)


def interesting(rng: random.Random) -> Any:
    """One of :data:`INTERESTING_VALUES`."""
    return rng.choice(INTERESTING_VALUES)


def random_json(rng: random.Random, depth: int = 0) -> Any:
    """A random JSON-ish value, shallow (depth at most 3)."""
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return interesting(rng)
    if kind == 1:
        return rng.randint(-(2**40), 2**40)
    if kind == 2:
        return rng.uniform(-1e6, 1e6)
    if kind == 3:
        return "".join(rng.choice("ab_-. 0é漢\n\"'\\") for _ in range(rng.randint(0, 12)))
    if kind == 4:
        return rng.choice((True, False, None))
    if kind in (5, 6):
        return {
            "".join(rng.choice("abcdefghij_") for _ in range(rng.randint(0, 8))): random_json(
                rng, depth + 1
            )
            for _ in range(rng.randint(0, 4))
        }
    return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def mutate_json(rng: random.Random, value: Any, depth: int = 0) -> Any:
    """``value`` with one part replaced, removed or added, somewhere inside."""
    if isinstance(value, dict) and value and depth < 6 and rng.random() < 0.6:
        key = rng.choice(list(value))
        out = dict(value)
        choice = rng.randrange(5)
        if choice == 0:
            del out[key]
        elif choice == 1:
            out[key] = interesting(rng)
        elif choice == 2:
            out[key] = random_json(rng)
        elif choice == 3:
            out["x" + str(rng.randrange(1000))] = random_json(rng)
        else:
            out[key] = mutate_json(rng, value[key], depth + 1)
        return out
    if isinstance(value, list) and value and depth < 6 and rng.random() < 0.6:
        out_list = list(value)
        index = rng.randrange(len(out_list))
        choice = rng.randrange(4)
        if choice == 0:
            del out_list[index]
        elif choice == 1:
            out_list.append(out_list[index])
        elif choice == 2:
            out_list[index] = interesting(rng)
        else:
            out_list[index] = mutate_json(rng, out_list[index], depth + 1)
        return out_list
    return interesting(rng) if rng.random() < 0.7 else random_json(rng)


def nested(depth: int, opener: str = "[", closer: str = "]", inner: str = "") -> str:
    """``depth`` levels of ``opener`` ... ``closer`` around ``inner``."""
    return opener * depth + inner + closer * depth


# --------------------------------------------------------------------------- running


async def wait_until(predicate: Callable[[], bool], bound: float, what: str) -> None:
    """Return once ``predicate()`` holds; RuntimeError after ``bound`` seconds.

    The parts a fuzzer starts say when they are ready only through their state (a bus's
    ``up``), so it is polled, with a bound, as tests/waiting.py does for the tests.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + bound
    while not predicate():
        if loop.time() >= deadline:
            raise RuntimeError(f"not ready within {bound} s: {what}")
        await asyncio.sleep(0.01)


@dataclass(frozen=True, slots=True)
class FuzzConfig:
    """One run: how many cases, from which seed."""

    cases: int
    seed: int = 0


def fuzz_main(
    doc: str | None,
    run: Callable[[FuzzConfig], Coroutine[Any, Any, Report]],
    argv: Sequence[str] | None,
    out: TextIO | None,
    default_cases: int,
) -> int:
    """Parse ``--cases`` and ``--seed``, run, print the figures; 1 if anything was found."""
    parser: argparse.ArgumentParser = argument_parser(doc)
    parser.add_argument("--cases", type=int, default=default_cases)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    stream = out if out is not None else sys.stdout
    started = time.monotonic()
    report = asyncio.run(run(FuzzConfig(args.cases, args.seed)))
    for name, value in report.figures(time.monotonic() - started):
        print(f"{name}: {value}", file=stream, flush=True)
    return 1 if report.findings else 0
