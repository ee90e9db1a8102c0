"""Fuzz the profile loader: mutated built-in profiles and random YAML.

Every case is one profile file, written to a temporary folder and read by
:func:`~electrical_safety_bridge.profiles.loader.load_profile_file`, as a user's profile is:

* a built-in or simulated profile (``profiles/builtin``, ``profiles/simulated``) parsed,
  changed somewhere inside (a key dropped, a value of the wrong kind, a huge or odd number,
  a duplicated list entry), and written back as YAML;
* the same file's text with bytes flipped, cut, inserted or repeated (not UTF-8, not YAML);
* random structures, and YAML that attacks parsers: deep nesting, aliases that expand
  exponentially, Python tags, dates that are none, duplicate keys.

The oracle: the loader returns a profile or raises a ProfileError that names the file and
says what is wrong (each problem a non-empty line); nothing else escapes; each file is
judged within a bound; and a profile the loader accepts can be put on a simulated unit.

Run it with ``.venv-bridge/bin/python bench/fuzz_profiles.py --cases 20000``.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Final, TextIO

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml

from bench._fuzz import (
    FuzzConfig,
    Report,
    fuzz_main,
    interesting,
    mutate_bytes,
    mutate_json,
    random_json,
)
from electrical_safety_bridge.errors import ProfileError
from electrical_safety_bridge.profiles.loader import load_profile_file
from electrical_safety_bridge.simulator import SimulatedUnit

#: One file may take this long to be judged.
JUDGE_BOUND_S: Final = 5.0

#: YAML that attacks a parser rather than a schema.
HOSTILE: Final[tuple[str, ...]] = (
    "a: &a [x, x, x, x, x, x, x, x, x]\n"
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
    "model: X\nregisters: [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
    "model: !!python/object/apply:os.system ['true']\n",
    "model: X\nmanufacturer: 2024-13-45\n",
    "model: X\nmodel: Y\n",
    "[" * 10_000 + "]" * 10_000,
    "{a: " * 5_000 + "1" + "}" * 5_000,
    "model: X\nregisters: &r\n  - <<: *r\n",
    "\t\x00\x01",
    "model: " + "9" * 5000 + "\n",
    "model: X\nregisters:\n  - {key: a, address: 1e400}\n",
    "--- a\n--- b\n",
    "",
    "~",
)


def _builtin_texts() -> list[tuple[str, str]]:
    root = Path(str(resources.files("electrical_safety_bridge.profiles")))
    return [
        (path.name, path.read_text(encoding="utf-8"))
        for folder in ("builtin", "simulated")
        for path in sorted((root / folder).glob("*.yaml"))
    ]


def _mutate_profile(rng: random.Random, data: Any) -> Any:
    for _ in range(rng.randint(1, 4)):
        data = mutate_json(rng, data)
    if isinstance(data, dict) and rng.random() < 0.3:
        key = rng.choice(list(data) or ["model"])
        data[key] = interesting(rng)
    return data


def case_bytes(rng: random.Random, builtins: list[tuple[str, str]]) -> bytes:
    """One profile file's bytes."""
    _, text = rng.choice(builtins)
    roll = rng.random()
    if roll < 0.55:
        data = _mutate_profile(rng, yaml.safe_load(text))
        try:
            return yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode(
                "utf-8", "surrogatepass"
            )
        except (yaml.YAMLError, ValueError, RecursionError):
            return text.encode()
    if roll < 0.8:
        return mutate_bytes(rng, text.encode())
    if roll < 0.9:
        return yaml.safe_dump(random_json(rng)).encode("utf-8", "surrogatepass")
    return rng.choice(HOSTILE).encode("utf-8", "surrogatepass")


def judge(report: Report, path: Path, data: bytes) -> None:
    """Load one file and check what came of it."""
    started = time.monotonic()
    try:
        profile = load_profile_file(path)
    except ProfileError as exc:
        text = str(exc)
        if str(path) not in text:
            report.found("unclear_error", data, f"the error does not name the file: {text[:200]}")
        elif not exc.problems or not all(isinstance(p, str) and p.strip() for p in exc.problems):
            report.found("unclear_error", data, f"problems {exc.problems!r}")
        report.count("refused")
    except Exception as exc:
        report.found("crash", data, f"{type(exc).__name__}: {exc}"[:300])
        return
    else:
        report.count("loaded")
        try:
            SimulatedUnit(profile, 1)
        except Exception as exc:
            report.found("accepted_unusable", data, f"{type(exc).__name__}: {exc}"[:300])
    elapsed = time.monotonic() - started
    if elapsed > JUDGE_BOUND_S:
        report.found("hang", data, f"{elapsed:.1f} s to judge")


async def fuzz(config: FuzzConfig) -> Report:
    """``config.cases`` profile files, each loaded from its own file."""
    rng = random.Random(config.seed)
    report = Report("profiles")
    builtins = _builtin_texts()
    with tempfile.TemporaryDirectory(prefix="fuzz-profiles-") as folder:
        path = Path(folder) / "user_profile.yaml"
        for _ in range(config.cases):
            if report.enough:
                break
            data = case_bytes(rng, builtins)
            path.write_bytes(data)
            report.cases += 1
            judge(report, path, data)
    return report


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Fuzz and print ``name: value`` lines; exit 1 if anything was found."""
    return fuzz_main(__doc__, fuzz, argv, out, default_cases=5000)


if __name__ == "__main__":
    sys.exit(main())
