"""The command line, run as a user runs it: a real process, real exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILTIN = ROOT / "addon" / "electrical_safety_bridge" / "profiles" / "builtin"


def bridge(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "addon")}
    return subprocess.run(
        [sys.executable, "-m", "electrical_safety_bridge", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=60,
        check=False,
    )


def test_profile_check_accepts_a_valid_profile() -> None:
    result = bridge("profile", "check", str(BUILTIN / "acrel_aim_r100.yaml"))
    assert result.returncode == 0, result.stderr
    assert "AIM-R100" in result.stdout
    assert "verified" in result.stdout


def test_profile_check_names_file_key_and_reason(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        (BUILTIN / "acrel_asj.yaml")
        .read_text(encoding="utf-8")
        .replace(
            "type: u16\n    unit: mA\n    kind: residual_current",
            "type: u17\n    unit: mA\n    kind: residual_current",
            1,
        )
    )
    result = bridge("profile", "check", str(bad))
    assert result.returncode == 1
    assert str(bad) in result.stderr
    assert "channels[0].type" in result.stderr


def test_profile_check_reports_yaml_syntax_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("manufacturer: Acrel\nmodel: [unclosed\n")
    result = bridge("profile", "check", str(bad))
    assert result.returncode == 1
    assert "line" in result.stderr
    assert "not valid YAML" in result.stderr


def test_profile_check_of_a_missing_file_says_so(tmp_path: Path) -> None:
    result = bridge("profile", "check", str(tmp_path / "nope.yaml"))
    assert result.returncode == 1
    assert "cannot read" in result.stderr


def test_profile_list_shows_builtin_and_user_profiles(tmp_path: Path) -> None:
    user = tmp_path / "profiles"
    user.mkdir()
    override = (BUILTIN / "acrel_asj.yaml").read_text(encoding="utf-8")
    (user / "my_asj.yaml").write_text(override.replace("verified: true", "verified: false"))
    result = bridge("profile", "list", "--user-dir", str(user))
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert "builtin" in lines["AIM-R100"]
    assert "user" in lines["ASJ"]
    assert "unverified" in lines["ASJ"]


def test_usage_error_exits_2() -> None:
    result = bridge("read", "--unit", "1", "--profile", "ASJ")
    assert result.returncode == 2
