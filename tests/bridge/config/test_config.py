"""The service's YAML configuration: what parses into what, and errors that say where and why."""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from electrical_safety_bridge.bus.bus_settings import BusSettings, PollIntervals
from electrical_safety_bridge.config.bridge_config import (
    DEFAULT_API_PORT,
    BridgeConfig,
    ConfigError,
    load_config,
    parse_config,
)
from electrical_safety_bridge.modbus.lines import SerialLine, TcpLine

ROOT = Path(__file__).resolve().parents[3]

VALID_YAML = """\
data_dir: /var/lib/bridge
api:
  host: 0.0.0.0
  port: 9000
buses:
  - id: cabinet-rs485
    serial: /dev/serial/by-id/usb-FTDI-if00
    baudrate: 19200
    parity: E
    stopbits: 1
    poll: {alarm: 0.5, telemetry: 5, slow: 120}
    offline_after: 30
    devices:
      - {id: asj-1, unit: 1, profile: ASJ, name: Main incomer}
      - {id: aim-2, unit: 2, profile: AIM-R100}
  - id: gateway-tcp
    tcp: 192.168.1.50:502
    offline_after: 100
    devices:
      - {id: asj-7, unit: 7, profile: asj}
  - id: gateway-rtu
    rtu_over_tcp: "[fd00::7]:4196"
    baudrate: 9600
    poll: {alarm: 0.05}
    devices:
      - {id: asj-9, unit: 9, profile: ASJ}
"""


def device(device_id: str, unit: int = 1, profile: str = "ASJ") -> dict[str, Any]:
    return {"id": device_id, "unit": unit, "profile": profile}


def config(*buses: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"data_dir": "/tmp/bridge", "buses": list(buses), **top}


def tcp_bus(bus_id: str = "b", *devices: dict[str, Any]) -> dict[str, Any]:
    return {"id": bus_id, "tcp": "127.0.0.1:502", "devices": list(devices) or [device("d")]}


def problems_of(data: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "bridge.yaml")
    assert caught.value.source == "bridge.yaml"
    assert caught.value.problems, "a ConfigError must say what is wrong"
    return caught.value.problems


def only_problem(data: Any) -> str:
    problems = problems_of(data)
    assert len(problems) == 1, problems
    return problems[0]


def write(tmp_path: Path, text: str, name: str = "bridge.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- valid


def test_valid_config_with_serial_tcp_and_rtu_over_tcp_buses(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path, VALID_YAML))

    assert isinstance(loaded, BridgeConfig)
    assert loaded.data_dir == Path("/var/lib/bridge")
    assert (loaded.api_host, loaded.api_port) == ("0.0.0.0", 9000)
    assert [b.settings.id for b in loaded.buses] == ["cabinet-rs485", "gateway-tcp", "gateway-rtu"]
    serial, tcp, rtu = (b.settings for b in loaded.buses)
    for settings in (serial, tcp, rtu):
        assert isinstance(settings, BusSettings)

    assert serial.line == SerialLine(
        "/dev/serial/by-id/usb-FTDI-if00", baudrate=19200, parity="E", stopbits=1
    )
    assert serial.intervals == PollIntervals(alarm=0.5, telemetry=5.0, slow=120.0)
    assert serial.offline_after == 30.0
    assert serial.baudrate == 19200

    assert tcp.line == TcpLine("192.168.1.50", 502, rtu=False, baudrate=None)
    assert tcp.intervals == PollIntervals()  # 1 s / 10 s / 300 s
    assert tcp.offline_after == 100.0  # the GB 14287.1 limit itself is allowed

    assert rtu.line == TcpLine("fd00::7", 4196, rtu=True, baudrate=9600)
    assert rtu.intervals == PollIntervals(alarm=0.05, telemetry=10.0, slow=300.0)
    assert rtu.offline_after == 60.0

    first = loaded.buses[0].devices
    assert [(d.id, d.unit, d.profile.model, d.name) for d in first] == [
        ("asj-1", 1, "ASJ", "Main incomer"),
        ("aim-2", 2, "AIM-R100", None),
    ]
    # Model names are matched without regard to case.
    assert loaded.buses[1].devices[0].profile.model == "ASJ"


def test_defaults() -> None:
    loaded = parse_config(config(tcp_bus()), "bridge.yaml")
    assert loaded.api_host == "127.0.0.1"
    assert loaded.api_port == DEFAULT_API_PORT
    # No ingress port unless asked; ingress headers believed from Supervisor's address only.
    assert (loaded.ingress_port, loaded.ingress_proxy) == (None, "172.30.32.2")
    assert loaded.profile_dir is None
    assert loaded.bridge_id is None
    assert loaded.gateway.tcp_port is None
    assert loaded.gateway.rtu_over_tcp_port is None
    (bus,) = loaded.buses
    assert bus.settings.offline_after == 60.0
    assert bus.settings.intervals == PollIntervals(1.0, 10.0, 300.0)


def test_serial_bus_defaults_to_9600_8n1() -> None:
    bus = {"id": "s", "serial": "/dev/ttyUSB0", "devices": [device("d")]}
    (parsed,) = parse_config(config(bus), "bridge.yaml").buses
    assert parsed.settings.line == SerialLine("/dev/ttyUSB0", 9600, "N", 1)


def test_parsing_does_not_change_its_input() -> None:
    data = config(tcp_bus())
    before = copy.deepcopy(data)
    parse_config(data, "bridge.yaml")
    assert data == before


# --------------------------------------------------------------------------- errors


def test_missing_devices_names_the_bus() -> None:
    problem = only_problem(config({"id": "b", "tcp": "127.0.0.1:502"}))
    assert problem.startswith("buses[0].devices:")
    assert "required" in problem


def test_empty_device_list_is_refused() -> None:
    problem = only_problem(config({"id": "b", "tcp": "127.0.0.1:502", "devices": []}))
    assert problem.startswith("buses[0].devices:")
    assert "at least 1" in problem


def test_two_line_kinds_on_one_bus_are_refused() -> None:
    bus = {"id": "b", "tcp": "h:502", "serial": "/dev/ttyUSB0", "devices": [device("d")]}
    problem = only_problem(config(bus))
    assert problem == (
        "buses[0]: give exactly one of serial, tcp or rtu_over_tcp (found serial and tcp)"
    )


def test_a_bus_without_any_line_is_refused() -> None:
    problem = only_problem(config({"id": "b", "devices": [device("d")]}))
    assert problem == "buses[0]: give exactly one of serial, tcp or rtu_over_tcp (found none)"


@pytest.mark.parametrize("seconds", [100.5, 101, 3600])
def test_offline_after_above_100_s_is_refused_citing_gb_14287_1(seconds: float) -> None:
    bus = {**tcp_bus(), "offline_after": seconds}
    problem = only_problem(config(bus))
    assert problem.startswith("buses[0].offline_after:")
    assert "GB 14287.1" in problem
    assert "100" in problem


@pytest.mark.parametrize("seconds", [0, 0.5, float("nan"), "soon"])
def test_offline_after_below_1_s_or_not_a_number_is_refused(seconds: object) -> None:
    bus = {**tcp_bus(), "offline_after": seconds}
    assert only_problem(config(bus)).startswith("buses[0].offline_after:")


def test_duplicate_device_id_across_buses_names_both_places() -> None:
    first = tcp_bus("one", device("shared", 1))
    second = {**tcp_bus("two", device("shared", 1)), "tcp": "127.0.0.1:503"}
    problem = only_problem(config(first, second))
    assert problem == "buses[1].devices[0].id: 'shared' is already used at buses[0].devices[0]"


def test_duplicate_bus_id_is_refused() -> None:
    problem = only_problem(config(tcp_bus("b", device("x")), tcp_bus("b", device("y"))))
    assert problem.startswith("buses[1].id:")
    assert "buses[0]" in problem


def test_duplicate_unit_on_one_bus_names_the_other_device() -> None:
    problem = only_problem(config(tcp_bus("b", device("first", 5), device("second", 5))))
    assert problem == "buses[0].devices[1].unit: unit 5 is already first"


def test_same_unit_on_two_buses_is_fine() -> None:
    second = {**tcp_bus("two", device("y", 5)), "tcp": "127.0.0.1:503"}
    parse_config(config(tcp_bus("one", device("x", 5)), second), "bridge.yaml")


def test_unknown_profile_lists_the_known_models() -> None:
    problem = only_problem(config(tcp_bus("b", device("d", 1, "NO-SUCH-MODEL"))))
    assert problem.startswith("buses[0].devices[0].profile:")
    assert "known models" in problem
    for model in ("ASJ", "AIM-R100"):
        assert model in problem


def test_template_profile_is_refused_as_incomplete() -> None:
    # A template must be filled in from the manual before a device may use it.
    problem = only_problem(config(tcp_bus("b", device("d", 1, "ARCM300"))))
    assert problem.startswith("buses[0].devices[0].profile:")


def test_template_profile_names_its_file_and_every_field_on_one_line() -> None:
    problem = only_problem(config(tcp_bus("b", device("d", 1, "ASCP200 (template)"))))
    template = ROOT / "addon/electrical_safety_bridge/profiles/templates/acrel_ascp_template.yaml"
    assert problem.startswith(
        f"buses[0].devices[0].profile: {template}: a template, to fill in from the device"
        " manual: channels[0] (breaker).address, channels[0] (breaker).bit, "
    )
    assert problem.endswith("commands.close.address, commands.close.value")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("192.168.1.50", "HOST:PORT"),
        ("192.168.1.50:http", "'http' is not a port number"),
        ("192.168.1.50:0", "1-65535"),
        ("192.168.1.50:70000", "1-65535"),
        (":502", "HOST:PORT"),
        (502, "HOST:PORT"),
    ],
)
@pytest.mark.parametrize("kind", ["tcp", "rtu_over_tcp"])
def test_bad_host_port_names_the_key_and_reason(kind: str, value: object, reason: str) -> None:
    bus = {"id": "b", kind: value, "devices": [device("d")]}
    problem = only_problem(config(bus))
    assert problem.startswith(f"buses[0].{kind}:")
    assert reason in problem


@pytest.mark.parametrize(
    ("key", "value"),
    [("alarm", 0), ("telemetry", -1), ("slow", "often")],
)
def test_bad_poll_interval_names_its_path(key: str, value: object) -> None:
    bus = {**tcp_bus(), "poll": {key: value}}
    assert only_problem(config(bus)).startswith(f"buses[0].poll.{key}:")


def test_infinite_alarm_interval_is_refused() -> None:
    bus = {**tcp_bus(), "poll": {"alarm": float("inf")}}
    assert only_problem(config(bus)).startswith("buses[0].poll.alarm:")


@pytest.mark.parametrize(("unit", "ok"), [(0, False), (1, True), (247, True), (248, False)])
def test_unit_range(unit: int, ok: bool) -> None:
    data = config(tcp_bus("b", device("d", unit)))
    if ok:
        assert parse_config(data, "bridge.yaml").buses[0].devices[0].unit == unit
    else:
        assert only_problem(data).startswith("buses[0].devices[0].unit:")


def test_bad_ids_and_unknown_keys_are_named() -> None:
    problems = problems_of(
        config({**tcp_bus(), "id": "has space", "colour": "red"}, api={"port": 70000})
    )
    assert any(p.startswith("buses[0].id:") for p in problems), problems
    assert any(p.startswith("buses[0].colour:") and "extra keys" in p for p in problems)
    assert any(p.startswith("api.port:") for p in problems), problems


def test_several_errors_are_reported_at_once() -> None:
    bus = {"id": "b", "tcp": "nowhere", "offline_after": 500, "devices": []}
    problems = problems_of({"buses": [bus], "api": {"port": -1}})
    paths = sorted(p.split(":", 1)[0] for p in problems)
    assert paths == [
        "api.port",
        "buses[0].devices",
        "buses[0].offline_after",
        "buses[0].tcp",
        "data_dir",
    ], problems


def test_several_semantic_errors_are_reported_at_once() -> None:
    problems = problems_of(
        config(
            tcp_bus("b", device("x", 1), device("x", 1), device("y", 2, "NOPE")),
            gateway={"tcp_port": 1502, "rtu_over_tcp_port": 1502},
        )
    )
    assert [p.split(":", 1)[0] for p in problems] == [
        "buses[0].devices[1].id",
        "buses[0].devices[1].unit",
        "buses[0].devices[2].profile",
        "gateway.rtu_over_tcp_port",
    ], problems


def test_problems_of_every_bus_are_reported_at_once() -> None:
    first = {**tcp_bus("one", device("x")), "tcp": "nowhere"}
    second = {**tcp_bus("two", device("y")), "offline_after": 500}
    paths = [p.split(":", 1)[0] for p in problems_of(config(first, second))]
    assert paths == ["buses[0].tcp", "buses[1].offline_after"]


def test_config_error_message_carries_the_source_and_every_problem() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"buses": []}, "site.yaml")
    text = str(caught.value)
    assert text.startswith("site.yaml: ")
    for problem in caught.value.problems:
        assert problem in text


# --------------------------------------------------------------------------- files


def test_yaml_syntax_error_gives_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "data_dir: /tmp/x\nbuses:\n  - id: b: c\n    tcp: h:1\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.source == str(path)
    assert caught.value.problems == [
        "line 3, column 10: not valid YAML: mapping values are not allowed here"
    ]


def test_unclosed_yaml_gives_the_line_where_it_was_noticed(tmp_path: Path) -> None:
    path = write(tmp_path, "data_dir: /tmp/x\nbuses:\n  - id: b\n    tcp: [unclosed\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    (problem,) = caught.value.problems
    assert problem.startswith("line 5, column 1: not valid YAML:"), problem


def test_yaml_tab_indentation_error_gives_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "data_dir: /tmp/x\nbuses:\n\t- id: b\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    (problem,) = caught.value.problems
    assert problem.startswith("line 3, column 1:"), problem
    assert "not valid YAML" in problem


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("", "the file is empty"),
        ("# nothing yet\n", "the file is empty"),
        ("- a\n- b\n", "found a list"),
        ("just words\n", "found 'just words'"),
    ],
)
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, found: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert caught.value.problems == [
        f"(top level): must be a mapping of configuration keys, but {found}"
    ]


def test_missing_file_cannot_be_read(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.source == str(path)
    (problem,) = caught.value.problems
    assert problem.startswith("cannot read:")
    assert "No such file" in problem


def test_a_directory_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    (problem,) = caught.value.problems
    assert problem.startswith("cannot read:")


def test_undecodable_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("data_dir: /tmp/caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.source == str(path)
    (problem,) = caught.value.problems
    assert problem.startswith("cannot read: not UTF-8")


# --------------------------------------------------------------------------- duplicate keys


def test_a_top_level_key_given_twice_is_refused_with_both_lines(tmp_path: Path) -> None:
    text = VALID_YAML.replace("data_dir: /var/lib/bridge\n", "", 1)
    path = write(tmp_path, f"data_dir: /var/lib/bridge\n{text}data_dir: /tmp/elsewhere\n")
    last = len(path.read_text(encoding="utf-8").splitlines())
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.source == str(path)
    assert caught.value.problems == [
        f"data_dir: duplicate key on line {last} (first given on line 1)"
    ]


def test_a_nested_key_given_twice_is_refused_with_its_path(tmp_path: Path) -> None:
    text = VALID_YAML.replace(
        "    offline_after: 30\n", "    offline_after: 30\n    offline_after: 90\n"
    )
    line = text.splitlines().index("    offline_after: 90") + 1
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert caught.value.problems == [
        f"buses[0].offline_after: duplicate key on line {line} (first given on line {line - 1})"
    ]


def test_a_key_given_twice_on_one_line_names_both_columns(tmp_path: Path) -> None:
    text = VALID_YAML.replace("{id: aim-2, unit: 2,", "{id: aim-2, unit: 2, unit: 3,")
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "unit: 3" in t)
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    (problem,) = caught.value.problems
    assert problem.startswith(f"buses[0].devices[1].unit: duplicate key on line {line}, column ")
    assert "(first given in column " in problem


def test_duplicate_keys_are_reported_with_every_other_problem(tmp_path: Path) -> None:
    text = VALID_YAML.replace("  port: 9000\n", "  port: 9000\n  port: 70000\n")
    text = text.replace("    offline_after: 100\n", "    offline_after: 500\n")
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    paths = [p.split(":", 1)[0] for p in caught.value.problems]
    # The last of two values is the one validated, as PyYAML would have kept it.
    assert paths == ["api.port", "api.port", "buses[1].offline_after"], caught.value.problems
    assert "duplicate key on line 5" in caught.value.problems[0]


def test_anchors_and_merge_keys_are_not_duplicates(tmp_path: Path) -> None:
    text = VALID_YAML.replace(
        "poll: {alarm: 0.5, telemetry: 5, slow: 120}",
        "poll: &fast {alarm: 0.5, telemetry: 5, slow: 120}",
    ).replace("poll: {alarm: 0.05}", "poll: {<<: *fast, alarm: 0.05}")
    rtu = load_config(write(tmp_path, text)).buses[2].settings
    assert rtu.intervals == PollIntervals(alarm=0.05, telemetry=5.0, slow=120.0)


# --------------------------------------------------------------------------- user profiles

ASJ_PROFILE = (
    ROOT / "addon" / "electrical_safety_bridge" / "profiles" / "builtin" / "acrel_asj.yaml"
).read_text(encoding="utf-8")


def config_with_profiles(tmp_path: Path, *models: str, bus: str = "tcp: 127.0.0.1:502") -> Path:
    """A configuration whose profile folder is tmp_path/profiles, one device per model."""
    (tmp_path / "profiles").mkdir(exist_ok=True)
    devices = "".join(
        f"      - {{id: d{n}, unit: {n}, profile: {model}}}\n" for n, model in enumerate(models, 1)
    )
    return write(
        tmp_path,
        f"data_dir: {tmp_path / 'data'}\nprofile_dir: {tmp_path / 'profiles'}\n"
        f"buses:\n  - id: b\n    {bus}\n    devices:\n{devices}",
    )


def test_a_broken_user_override_stops_the_configuration_naming_file_and_reason(
    tmp_path: Path,
) -> None:
    path = config_with_profiles(tmp_path, "ASJ", "AIM-R100")
    override = tmp_path / "profiles" / "my_asj.yaml"
    override.write_text(ASJ_PROFILE.replace("address: 0x0000", "address: 0x10000", 1))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.source == str(path)
    (problem,) = caught.value.problems
    assert problem == (
        f"buses[0].devices[0].profile: {override}: channels[0].address:"
        " must be between 0 and 0xFFFF (got 65536)"
    )


def test_a_broken_file_of_unknown_model_stops_every_device(tmp_path: Path) -> None:
    path = config_with_profiles(tmp_path, "ASJ", "AIM-R100", "asj")
    empty = tmp_path / "profiles" / "new.yaml"
    empty.write_text("")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.problems == [
        f"buses[0].devices[0].profile: {empty}: (top level): must be a mapping of profile keys,"
        " but the file is empty",
        f"buses[0].devices[0].profile: {empty}: model: cannot be read from this file, so it may"
        " be meant for any model ('ASJ' too) and no device gets a profile until it is fixed or"
        " removed",
        f"buses[0].devices[1].profile: {empty}: (top level): must be a mapping of profile keys,"
        " but the file is empty",
        f"buses[0].devices[1].profile: {empty}: model: cannot be read from this file, so it may"
        " be meant for any model ('AIM-R100' too) and no device gets a profile until it is fixed"
        " or removed",
        f"buses[0].devices[2].profile: {empty}: (top level): must be a mapping of profile keys,"
        " but the file is empty",
        f"buses[0].devices[2].profile: {empty}: model: cannot be read from this file, so it may"
        " be meant for any model ('asj' too) and no device gets a profile until it is fixed or"
        " removed",
    ]


def test_a_profile_problem_shared_by_devices_is_told_once(tmp_path: Path) -> None:
    path = config_with_profiles(tmp_path, "ASJ", "ASJ", "ASJ")
    (tmp_path / "profiles" / "asj.yaml").write_text("model: ASJ\nchannels: [\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    first, *others = caught.value.problems
    assert first.startswith(f"buses[0].devices[0].profile: {tmp_path / 'profiles' / 'asj.yaml'}:")
    assert "not valid YAML" in first
    assert others == [
        f"buses[0].devices[{n}].profile: 'ASJ' cannot be used either"
        " (see buses[0].devices[0].profile)"
        for n in (1, 2)
    ]


def test_profile_problems_are_reported_with_the_configurations_own(tmp_path: Path) -> None:
    path = config_with_profiles(tmp_path, "ASJ", bus="tcp: nowhere")
    (tmp_path / "profiles" / "asj.yaml").write_bytes(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    problems = caught.value.problems
    assert problems[0].startswith("buses[0].tcp: must be HOST:PORT")
    assert problems[1] == (
        f"buses[0].devices[0].profile: {tmp_path / 'profiles' / 'asj.yaml'}:"
        " cannot read: not UTF-8 text (invalid start byte at byte 0)"
    )
    assert len(problems) == 3  # and the note that its model cannot be read


def test_a_valid_override_is_used(tmp_path: Path) -> None:
    path = config_with_profiles(tmp_path, "ASJ", "AIM-R100")
    override = tmp_path / "profiles" / "asj.yaml"
    override.write_text(ASJ_PROFILE.replace("verified: true", "verified: false"))
    asj, aim = load_config(path).buses[0].devices
    assert (asj.profile.origin, asj.profile.verified) == (str(override), False)
    assert aim.profile.verified


def test_a_missing_profile_folder_is_said_out_loud(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = config(tcp_bus(), profile_dir=str(tmp_path / "typo"))
    assert parse_config(data, "bridge.yaml").buses[0].devices[0].profile.model == "ASJ"
    assert f"profile_dir {tmp_path / 'typo'} does not exist" in caplog.text


# --------------------------------------------------------------------------- CLI


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "electrical_safety_bridge", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "addon")},
        timeout=60,
        check=False,
    )


def test_cli_run_with_a_bad_config_exits_1_printing_every_problem(tmp_path: Path) -> None:
    bad = write(
        tmp_path,
        "data_dir: {data}\nbuses:\n"
        "  - id: b\n    tcp: nowhere\n    offline_after: 300\n"
        "    devices: [{{id: d, unit: 1, profile: ASJ}}]\n".format(data=tmp_path / "data"),
        "bad.yaml",
    )
    result = run_cli("run", "--config", str(bad))
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == f"{bad}: 2 problem(s):"
    assert any(line.strip().startswith("buses[0].tcp:") for line in lines), result.stderr
    assert any("GB 14287.1" in line for line in lines), result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists(), "a bad config must not create the data folder"


def test_cli_run_with_a_missing_config_exits_1(tmp_path: Path) -> None:
    result = run_cli("run", "--config", str(tmp_path / "absent.yaml"))
    assert result.returncode == 1
    assert "cannot read" in result.stderr
    assert "Traceback" not in result.stderr


def test_mdns_advertisement_can_be_forced_either_way() -> None:
    data = config(tcp_bus())
    assert parse_config(data, "bridge.yaml").advertise is None
    for choice in (True, False):
        data = config(tcp_bus(), api={"advertise": choice})
        assert parse_config(data, "bridge.yaml").advertise is choice


def test_a_configuration_loads_without_pymodbus(tmp_path: Path) -> None:
    """config/ imports no pymodbus, not even through the bus, gateway or line settings it
    reads: a fresh interpreter loads a configuration and has not imported pymodbus."""
    path = write(tmp_path, VALID_YAML + "gateway:\n  tcp_port: 5020\n")
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from electrical_safety_bridge.config.bridge_config import load_config\n"
        "import electrical_safety_bridge.config.addon_options\n"
        f"loaded = load_config(Path({str(path)!r}))\n"
        "assert [b.settings.id for b in loaded.buses] == "
        "['cabinet-rs485', 'gateway-tcp', 'gateway-rtu'], loaded\n"
        "assert loaded.gateway.tcp_port == 5020, loaded.gateway\n"
        "top = {m.split('.')[0] for m in sys.modules}\n"
        "loaded_modbus = sorted(top & {'pymodbus', 'serial'})\n"
        "assert 'pymodbus' not in sys.modules, loaded_modbus\n"
        "assert loaded_modbus == [], loaded_modbus\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr


def test_a_device_s_name_and_room_are_kept_and_an_empty_room_is_named() -> None:
    data = tcp_bus("one", {**device("kitchen", 1), "name": "Kitchen", "area": "Kitchen"})
    (bus,) = parse_config(config(data), "bridge.yaml").buses
    (spec,) = bus.devices
    assert (spec.name, spec.area) == ("Kitchen", "Kitchen")
    with pytest.raises(ConfigError) as error:
        parse_config(config(tcp_bus("one", {**device("k", 1), "area": ""})), "bridge.yaml")
    assert "bridge.yaml" in str(error.value) and "area" in str(error.value)


def test_the_proof_examples_in_the_docs_are_valid(tmp_path: Path) -> None:
    """The self-test and inspection blocks of DOCS.md (fenced as text: the add-on's own
    example tests take every yaml block for a whole configuration)."""
    text = (ROOT / "addon" / "DOCS.md").read_text(encoding="utf-8")
    section = text.split("## Self-tests and inspections: the proof", 1)[1].split("\n## ", 1)[0]
    blocks = [yaml.safe_load(b) for b in re.findall(r"```text\n(.*?)```", section, re.S)]
    schedule, inspections = blocks
    bus = schedule["buses"][0]
    config = parse_config(
        {
            "data_dir": str(tmp_path),
            "self_test": schedule["self_test"],
            "inspections": inspections["inspections"],
            "buses": [{**bus, "tcp": "127.0.0.1:502"}],
        },
        "DOCS.md",
    )
    assert config.proof.schedule_of("kitchen").every_days == 7
    assert not config.proof.schedule_of("garage").enabled
    assert [k.value for k in config.proof.inspections] == ["jp_equipment_check", "jp_overall_check"]


def test_proof_problems_name_the_file_the_key_and_the_value(tmp_path: Path) -> None:
    data = {
        "data_dir": str(tmp_path),
        "self_test": {"every_days": 0, "at": 600, "time_limit_s": 45},
        "inspections": {"track": ["weekly"]},
        "buses": [
            {
                "id": "b",
                "tcp": "127.0.0.1:502",
                "devices": [{"id": "d", "unit": 1, "profile": "ASJ", "self_test": {"at": "25:00"}}],
            }
        ],
    }
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "bridge.yaml")
    text = str(caught.value)
    assert text.startswith("bridge.yaml: ")
    for expected in (
        "self_test.every_days: must be 1-366 days (got 0)",
        'self_test.at: must be a time of day in quotes, such as "10:00" (got 600',
        "self_test.time_limit_s: must be more than 0 and at most 30 s",
        "(got 45)",
        "inspections.track[0]: must be one of jp_equipment_check",
        "(got 'weekly')",
        "buses[0].devices[0].self_test.at: must be a time of day HH:MM",
        "(got '25:00')",
    ):
        assert expected in text, expected
