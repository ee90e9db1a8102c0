"""The command line, run as a user runs it: a real process, real exit codes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from electrical_safety_bridge.profiles.loader import find_profile
from electrical_safety_bridge.simulator import SimulatedBus, SimulatedUnit

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


def write_config(tmp_path: Path, profiles: Path, *models: str) -> Path:
    devices = "".join(
        f"      - {{id: d{n}, unit: {n}, profile: {m}}}\n" for n, m in enumerate(models, 1)
    )
    path = tmp_path / "bridge.yaml"
    path.write_text(
        f"data_dir: {tmp_path / 'data'}\nprofile_dir: {profiles}\napi: {{port: 0}}\n"
        f"buses:\n  - id: b\n    tcp: 127.0.0.1:9\n    devices:\n{devices}",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "(top level): must be a mapping of profile keys, but the file is empty"),
        (b"\x00\x01\x02\xff", "cannot read: not UTF-8 text"),
        (b"model: ASJ\nchannels: [\n", "not valid YAML"),
    ],
    ids=["empty", "binary", "syntax error"],
)
def test_run_with_a_broken_user_override_exits_1_naming_the_file(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    broken = profiles / "mine.yaml"
    broken.write_bytes(content)
    config = write_config(tmp_path, profiles, "ASJ")
    result = bridge("run", "--config", str(config))
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{config}: ")
    assert any(
        line.strip().startswith(f"buses[0].devices[0].profile: {broken}: ") and reason in line
        for line in lines
    ), result.stderr
    assert "Traceback" not in result.stderr
    assert "serving" not in result.stdout
    assert not (tmp_path / "data").exists(), "a refused start must not create the data folder"


def test_profile_list_shows_broken_user_files_with_their_error(tmp_path: Path) -> None:
    user = tmp_path / "profiles"
    user.mkdir()
    (user / "blob.yaml").write_bytes(b"\x89PNG\r\n")
    override = (BUILTIN / "acrel_asj.yaml").read_text(encoding="utf-8")
    (user / "asj.yaml").write_text(override.replace("kind: residual_current\n", "kind: x\n", 1))
    result = bridge("profile", "list", "--user-dir", str(user))
    assert result.returncode == 1
    out = result.stdout.splitlines()
    blob = next(i for i, line in enumerate(out) if line.endswith(str(user / "blob.yaml")))
    assert "INVALID: blocks every model" in out[blob]
    assert out[blob + 1].strip().startswith("cannot read: not UTF-8 text")
    assert out[blob + 2].strip().startswith("model: cannot be read from this file")
    asj = next(i for i, line in enumerate(out) if line.endswith(str(user / "asj.yaml")))
    assert out[asj].split()[:3] == ["ASJ", "user", "INVALID"]
    assert out[asj + 1].strip().startswith("channels[0].kind: value must be one of")
    assert "2 user profile file(s) cannot be used" in result.stderr


def test_profile_check_of_a_folder_shows_every_file(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text((BUILTIN / "acrel_asj.yaml").read_text(encoding="utf-8"))
    (tmp_path / "list.yml").write_text("- model: ASJ\n")
    result = bridge("profile", "check", str(tmp_path))
    assert result.returncode == 1
    assert f"{tmp_path / 'good.yaml'}: OK: Acrel ASJ" in result.stdout
    assert f"{tmp_path / 'list.yml'}: 1 problem(s):" in result.stderr
    assert "must be a mapping of profile keys, but found a list" in result.stderr
    assert "model: cannot be read from this file" in result.stderr


def test_profile_check_of_a_binary_file_names_it(tmp_path: Path) -> None:
    blob = tmp_path / "blob.yaml"
    blob.write_bytes(b"\xff\xd8\xff\xe0")
    result = bridge("profile", "check", str(blob))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{blob}: 1 problem(s):",
        "  cannot read: not UTF-8 text (invalid start byte at byte 0)",
    ]


def test_read_with_a_broken_user_override_refuses_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "asj.yaml").write_text("model: ASJ\nmodel: ASJ\n")
    result = bridge(
        "read",
        "--tcp",
        "127.0.0.1:9",
        "--unit",
        "1",
        "--profile",
        "ASJ",
        "--user-dir",
        str(tmp_path),
    )
    assert result.returncode == 1
    assert f"{tmp_path / 'asj.yaml'}: " in result.stderr
    assert "model: duplicate key on line 2 (first given on line 1)" in result.stderr
    assert "Traceback" not in result.stderr


def test_usage_error_exits_2() -> None:
    result = bridge("read", "--unit", "1", "--profile", "ASJ")
    assert result.returncode == 2


# --------------------------------------------------------------------------- against devices


async def bridge_async(*args: str) -> tuple[int, str, str]:
    """The CLI as a subprocess while this test's event loop keeps serving the simulator."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "addon")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "electrical_safety_bridge",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.usefixtures("socket_enabled")
async def test_read_prints_one_json_object_of_a_unit() -> None:
    sim = SimulatedBus([SimulatedUnit(find_profile("AIM-R100"), 3)])
    sim.unit(3).set("loop_2_residual_current", 77)
    sim.unit(3).set("loop_2_fault", "open_circuit")
    server = await sim.serve_tcp("127.0.0.1", 0, rtu=True)
    try:
        code, out, err = await bridge_async(
            "read",
            "--rtu-over-tcp",
            f"127.0.0.1:{server.port}",
            "--unit",
            "3",
            "--profile",
            "AIM-R100",
        )
    finally:
        await sim.stop()
    assert code == 0, err
    snapshot = json.loads(out)
    assert snapshot["model"] == "AIM-R100" and snapshot["online"] is True
    assert snapshot["values"]["loop_2_residual_current"] == 77
    assert snapshot["wiring_faults"]["loop_2_residual_current"] == "open_circuit"
    assert "loop_1_alarm_setpoint" in snapshot["setpoints"]
    assert snapshot["alarms"]["loop_2_residual_current"] is False


@pytest.mark.usefixtures("socket_enabled")
async def test_read_of_a_silent_unit_exits_1() -> None:
    sim = SimulatedBus([SimulatedUnit(find_profile("ASJ"), 1)])
    server = await sim.serve_tcp("127.0.0.1", 0)
    try:
        code, _, err = await bridge_async(
            "read", "--tcp", f"127.0.0.1:{server.port}", "--unit", "2", "--profile", "ASJ"
        )
    finally:
        await sim.stop()
    assert code == 1
    assert "unit 2 did not answer" in err


@pytest.mark.usefixtures("socket_enabled")
async def test_scan_finds_the_units_and_names_identifiable_models() -> None:
    sim = SimulatedBus(
        [
            SimulatedUnit(find_profile("AIM-R100"), 2),
            SimulatedUnit(find_profile("ASJ"), 5),
            SimulatedUnit(find_profile("SIM-ARCM"), 7),
        ]
    )
    server = await sim.serve_tcp("127.0.0.1", 0, rtu=True)
    try:
        code, out, err = await bridge_async(
            "scan",
            "--rtu-over-tcp",
            f"127.0.0.1:{server.port}",
            "--baud",
            "9600",
            "--units",
            "1-8",
        )
    finally:
        await sim.stop()
    assert code == 0, err
    hits = {line["unit"]: line["models"] for line in map(json.loads, out.splitlines())}
    assert set(hits) == {2, 5, 7}
    assert hits[2] == ["AIM-R100"]
    assert hits[7] == ["SIM-ARCM"]
    assert hits[5] == []  # the ASJ map has no identity register
