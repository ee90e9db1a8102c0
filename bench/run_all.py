"""Run every benchmark in bench/ and write bench/RESULTS.md (``make bench``).

The benchmarks are found, not listed: every ``bench/*.py`` but this file and the shared
``_*.py`` modules, in a fixed order for the known ones (the fast, self-contained ones first)
and then the rest by name, so a benchmark added later (``fuzz_*.py``, ``fault_soak.py``) is
run without editing this file. Each one runs as its own process with this interpreter,
``PYTHONPATH=addon``, and the environment it is given (``HASS_BIN`` for the ones that start
Home Assistant, ``MBUSD_BIN`` for the gateway's comparison with mbusd); its ``name: value``
lines are echoed as they come and collected, and its other output goes to
``.artifacts/bench/<name>.log``. A benchmark that fails is reported in the file with its exit
status and the end of its log, never left out silently.

RESULTS.md holds one table per benchmark: every figure, its goal where the benchmark prints
one (``goal_<figure>`` names it, or a figure that ends in the goal's name, such as
``idle_gateway_added_latency_p50_ms`` for ``goal_gateway_added_latency_p50_ms``) and whether
it is met, then the machine (cores, CPU model, Python), the date and the machine's load
before and after: the figures of a busy shared machine are read with that in mind.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

HERE: Final = Path(__file__).resolve().parent
ROOT: Final = HERE.parent
#: Known benchmarks first, in this order; any other bench/*.py after them, by name.
ORDER: Final = (
    "bus_sweep",
    "gateway",
    "relay",
    "scale_sites",
    "bridge_resources",
    "alarm_under_load",
    "alarm_latency",
)
_LINE: Final = re.compile(r"^(?P<name>[a-z][a-z0-9_]*): (?P<value>\S+)$")
#: Goals with this in their name are floors (≥); every other goal is a ceiling (≤).
_FLOOR_MARKERS: Final = ("per_s",)
PER_BENCH_BOUND_S: Final = 3600.0


@dataclass
class Outcome:
    """One benchmark's run: its figures in print order, exit status and time."""

    name: str
    command: list[str]
    figures: list[tuple[str, str]] = field(default_factory=list)
    status: int | None = None
    seconds: float = 0.0
    log: Path | None = None
    skipped: str | None = None


def discover(folder: Path = HERE) -> list[str]:
    """The benchmarks in ``folder``: known ones in ORDER, then the others by name."""
    found = {
        p.stem for p in folder.glob("*.py") if not p.name.startswith("_") and p.stem != "run_all"
    }
    return [n for n in ORDER if n in found] + sorted(found - set(ORDER))


def default_arguments(name: str, environ: dict[str, str]) -> list[str]:
    """What ``make bench`` passes each benchmark (nothing for ones it does not know)."""
    hass = environ.get("HASS_BIN", "")
    if name == "bridge_resources" and hass and os.access(hass, os.X_OK):
        return ["--hass"]
    return []


def skip_reason(name: str, environ: dict[str, str]) -> str | None:
    """Why a benchmark cannot run here, or None."""
    if name == "alarm_latency":
        hass = environ.get("HASS_BIN", "")
        if not hass or not os.access(hass, os.X_OK):
            return "HASS_BIN does not name Home Assistant's hass (make bench sets it)"
    return None


async def run_one(
    name: str, arguments: Sequence[str], logs: Path, echo: bool, bound: float
) -> Outcome:
    command = [sys.executable, str(HERE / f"{name}.py"), *arguments]
    outcome = Outcome(name, command, log=logs / f"{name}.log")
    environ = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "addon"), str(ROOT)])}
    started = time.perf_counter()
    assert outcome.log is not None
    with outcome.log.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=ROOT,
            env=environ,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
        )
        assert process.stdout is not None
        try:
            async with asyncio.timeout(bound):
                async for raw in process.stdout:
                    line = raw.decode(errors="replace").rstrip("\n")
                    match = _LINE.match(line)
                    if match:
                        outcome.figures.append((match["name"], match["value"]))
                        if echo:
                            print(f"{name}.{line}", flush=True)
                    else:
                        log.write(raw)
                outcome.status = await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()
            outcome.status = -9
            log.write(f"\nrun_all: stopped after {bound:.0f} s\n".encode())
    outcome.seconds = time.perf_counter() - started
    return outcome


def _goal_of(figure: str, goals: dict[str, str]) -> tuple[str, str] | None:
    """The goal that applies to a figure: same name, or the name the figure ends with."""
    for goal, value in goals.items():
        if figure == goal or figure.endswith(f"_{goal}"):
            return goal, value
    return None


def _met(figure: str, value: str, goal: str) -> str:
    try:
        measured, bound = float(value), float(goal)
    except ValueError:
        return ""
    floor = any(marker in figure for marker in _FLOOR_MARKERS)
    ok = measured >= bound if floor else measured <= bound
    return ("yes" if ok else "**no**") + (" (≥)" if floor else " (≤)")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def tools() -> list[str]:
    """The outside programs the benchmarks used, with their versions where they say them."""
    found = []
    for label, command in (
        ("Mosquitto", [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-h"]),
        ("mbusd", [os.environ.get("MBUSD_BIN") or shutil.which("mbusd") or "", "-h"]),
        ("Home Assistant", [os.environ.get("HASS_BIN", ""), "--version"]),
    ):
        if not command[0] or not os.access(command[0], os.X_OK):
            found.append(f"{label}: not found")
            continue
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            found.append(f"{label}: {command[0]} ({exc})")
            continue
        first = (done.stdout or done.stderr).strip().splitlines()[:1]
        found.append(f"{label}: {command[0]} ({first[0] if first else 'no version printed'})")
    return found


def render(
    outcomes: Sequence[Outcome],
    load_before: str,
    load_after: str,
    began: str,
    used: Sequence[str] = (),
    note: str = "",
) -> str:
    """RESULTS.md: the machine, then one table per benchmark."""
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (bench/run_all.py): every figure each benchmark printed, with",
        "its goal where the benchmark states one (from design.md and issue 14). Nothing here is",
        "asserted by a test; the figures are compared from run to run. Read them against the",
        "machine's load below: the machine is shared.",
        "",
        f"- Date: {began} (UTC)",
        f"- Machine: {os.cpu_count()} cores, {_cpu_model()}, {platform.system()} "
        f"{platform.release()}",
        f"- Python: {platform.python_version()} ({sys.executable})",
        f"- Load average (1, 5, 15 min) before: {load_before}; after: {load_after}",
        *(f"- {line}" for line in used),
        *([f"- Note: {note}"] if note else []),
        "",
        "| benchmark | status | time (s) |",
        "|---|---|---|",
    ]
    for outcome in outcomes:
        if outcome.skipped:
            status = f"skipped: {outcome.skipped}"
        else:
            status = "ok" if outcome.status == 0 else f"**failed** (exit {outcome.status})"
        lines.append(f"| {outcome.name} | {status} | {outcome.seconds:.0f} |")
    for outcome in outcomes:
        lines += ["", f"## {outcome.name}", ""]
        if outcome.skipped:
            lines.append(f"Skipped: {outcome.skipped}.")
            continue
        arguments = shlex.join(outcome.command[2:]) or "(defaults)"
        lines.append(f"Arguments: `{arguments}`.")
        if outcome.status != 0 and outcome.log is not None:
            tail = outcome.log.read_text(errors="replace").splitlines()[-15:]
            lines += ["", f"Failed with exit status {outcome.status}; its log ends:", "", "```"]
            lines += [*tail, "```"]
        goals = {n.removeprefix("goal_"): v for n, v in outcome.figures if n.startswith("goal_")}
        lines += ["", "| figure | value | goal | met |", "|---|---|---|---|"]
        for name, value in outcome.figures:
            if name.startswith("goal_"):
                continue
            applies = _goal_of(name, goals)
            goal = applies[1] if applies else ""
            met = _met(name, value, goal) if applies else ""
            lines.append(f"| {name} | {value} | {goal} | {met} |")
    return "\n".join(lines) + "\n"


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


async def run_benchmarks(
    names: Sequence[str], overrides: dict[str, str], logs: Path, echo: bool, bound: float
) -> list[Outcome]:
    """Run each benchmark in turn (never two at once: they would measure each other)."""
    outcomes: list[Outcome] = []
    environ = dict(os.environ)
    for name in names:
        reason = skip_reason(name, environ)
        if reason is not None:
            print(f"{name}: skipped: {reason}", flush=True)
            outcomes.append(Outcome(name, [], skipped=reason))
            continue
        if name in overrides:
            arguments = shlex.split(overrides[name])
        else:
            arguments = default_arguments(name, environ)
        print(f"== {name} {shlex.join(arguments)}", flush=True)
        outcome = await run_one(name, arguments, logs, echo, bound)
        outcomes.append(outcome)
        print(f"== {name}: exit {outcome.status} in {outcome.seconds:.0f} s", flush=True)
    return outcomes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", nargs="+", metavar="NAME", help="these benchmarks only")
    parser.add_argument(
        "--args",
        action="append",
        default=[],
        metavar="NAME=ARGS",
        help="arguments for one benchmark instead of its defaults (repeatable)",
    )
    parser.add_argument("--results", default=str(HERE / "RESULTS.md"))
    parser.add_argument("--logs", default=str(ROOT / ".artifacts" / "bench"))
    parser.add_argument("--bound", type=float, default=PER_BENCH_BOUND_S, help="s per bench")
    parser.add_argument("--quiet", action="store_true", help="do not echo the figures")
    parser.add_argument(
        "--note",
        default=os.environ.get("BENCH_NOTE", ""),
        help="a line for RESULTS.md about this run (the machine's other work, for example)",
    )
    args = parser.parse_args(argv)
    unknown = set(args.only or ()) - set(discover())
    if unknown:
        parser.error(f"--only: no such benchmark in {HERE}: {', '.join(sorted(unknown))}")
    logs = Path(args.logs)
    logs.mkdir(parents=True, exist_ok=True)
    began = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
    load_before = _load()
    overrides = dict(item.split("=", 1) for item in args.args)
    outcomes = asyncio.run(
        run_benchmarks(args.only or discover(), overrides, logs, not args.quiet, args.bound)
    )
    text = render(outcomes, load_before, _load(), began, tools(), args.note)
    Path(args.results).write_text(text, encoding="utf-8")
    print(f"wrote {args.results}", flush=True)
    return 0 if all(o.status == 0 for o in outcomes if not o.skipped) else 1


if __name__ == "__main__":
    sys.exit(main())
