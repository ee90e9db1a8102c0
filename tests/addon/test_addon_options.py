"""The add-on options become a bridge configuration that the bridge itself accepts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from electrical_safety_bridge.config.addon_options import (
    API_PORT,
    GATEWAY_RTU_OVER_TCP_PORT,
    GATEWAY_TCP_PORT,
    check_options,
    main,
    options_to_config,
)
from electrical_safety_bridge.config.bridge_config import ConfigError, load_config, parse_config
from electrical_safety_bridge.modbus.lines import SerialLine, TcpLine

ROOT = Path(__file__).resolve().parents[2]
ADAPTER = "/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A10KXYZ1-if00-port0"


def serial_options(**extra: Any) -> dict[str, Any]:
    """Options as Supervisor writes them to /data/options.json: one adapter, two detectors."""
    return {
        "log_level": "info",
        "retention_days": 3650,
        "buses": [
            {"id": "panel-1", "device": ADAPTER, "baudrate": "9600", "parity": "N", "stopbits": 1}
        ],
        "devices": [
            {"id": "main-rcm", "bus": "panel-1", "unit": 1, "profile": "AIM-R100"},
            {"id": "kitchen", "bus": "panel-1", "unit": 2, "profile": "ASJ", "name": "Kitchen"},
        ],
        "gateway_modbus_tcp": False,
        "gateway_rtu_over_tcp": False,
        **extra,
    }


def problems_of(options: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        check_options(options)
    assert caught.value.source == "add-on options"
    return caught.value.problems


def test_a_serial_bus_becomes_a_valid_bridge_config() -> None:
    config = parse_config(options_to_config(serial_options()), "test")
    (bus,) = config.buses
    assert bus.settings.id == "panel-1"
    assert bus.settings.line == SerialLine(ADAPTER, baudrate=9600, parity="N", stopbits=1)
    assert [(d.id, d.unit, d.profile.model, d.name) for d in bus.devices] == [
        ("main-rcm", 1, "AIM-R100", None),
        ("kitchen", 2, "ASJ", "Kitchen"),
    ]
    assert config.data_dir == Path("/data")
    assert config.profile_dir == Path("/config/profiles")
    assert config.retention_days == 3650
    # Home Assistant Core reaches the API over Supervisor's network, not the loopback.
    assert (config.api_host, config.api_port) == ("0.0.0.0", API_PORT)
    # The web UI also listens on the ingress port config.yaml declares, and believes ingress
    # headers from Supervisor's address alone.
    declared = yaml.safe_load((ROOT / "addon" / "config.yaml").read_text(encoding="utf-8"))
    assert config.ingress_port == declared["ingress_port"] != API_PORT
    assert config.ingress_proxy == "172.30.32.2"
    assert config.gateway.tcp_port is None
    assert config.gateway.rtu_over_tcp_port is None


@pytest.mark.parametrize(
    ("protocol", "rtu"), [(None, False), ("modbus_tcp", False), ("rtu_over_tcp", True)]
)
def test_a_gateway_bus_becomes_a_tcp_line(protocol: str | None, rtu: bool) -> None:
    bus: dict[str, Any] = {
        "id": "basement",
        "host": "192.168.1.50",
        "port": 502,
        "baudrate": "19200",
    }
    if protocol:
        bus["protocol"] = protocol
    options = {"buses": [bus], "devices": [{"id": "rcm", "unit": 7, "profile": "SIM-ARCM"}]}
    config = parse_config(options_to_config(options), "test")
    assert config.buses[0].settings.line == TcpLine("192.168.1.50", 502, rtu=rtu, baudrate=19200)
    assert config.buses[0].devices[0].profile.model == "SIM-ARCM"


def test_an_ipv6_gateway_host_keeps_its_port() -> None:
    options = {
        "buses": [{"id": "v6", "host": "fd00::50", "port": 5020}],
        "devices": [{"id": "rcm", "unit": 1, "profile": "ASJ"}],
    }
    line = parse_config(options_to_config(options), "test").buses[0].settings.line
    assert line == TcpLine("fd00::50", 5020)


def test_devices_land_on_their_own_bus_in_the_order_given() -> None:
    options = serial_options(
        buses=[
            {"id": "a", "device": ADAPTER},
            {"id": "b", "host": "10.0.0.9", "port": 502},
        ],
        devices=[
            {"id": "b1", "bus": "b", "unit": 1, "profile": "ASJ"},
            {"id": "a1", "bus": "a", "unit": 1, "profile": "AIM-R100"},
            {"id": "b2", "bus": "b", "unit": 2, "profile": "SIM-ARCM"},
            {"id": "a2", "bus": "a", "unit": 5, "profile": "ASJ"},
        ],
    )
    config = parse_config(options_to_config(options), "test")
    assert [[d.id for d in bus.devices] for bus in config.buses] == [["a1", "a2"], ["b1", "b2"]]


def test_with_one_bus_a_device_may_leave_out_its_bus() -> None:
    options = serial_options(devices=[{"id": "rcm", "unit": 3, "profile": "AIM-R100"}])
    config = parse_config(options_to_config(options), "test")
    assert config.buses[0].devices[0].id == "rcm"


def test_poll_and_offline_options_reach_the_bus_settings() -> None:
    options = serial_options()
    options["buses"][0].update(
        alarm_poll_seconds=0.5, telemetry_poll_seconds=30.0, offline_after_seconds=90
    )
    settings = parse_config(options_to_config(options), "test").buses[0].settings
    assert (settings.intervals.alarm, settings.intervals.telemetry) == (0.5, 30.0)
    assert settings.offline_after == 90


def test_gateway_options_listen_on_the_container_ports() -> None:
    options = serial_options(gateway_modbus_tcp=True, gateway_rtu_over_tcp=True)
    gateway = parse_config(options_to_config(options), "test").gateway
    assert (gateway.host, gateway.tcp_port, gateway.rtu_over_tcp_port) == (
        "0.0.0.0",
        GATEWAY_TCP_PORT,
        GATEWAY_RTU_OVER_TCP_PORT,
    )


def test_paths_and_api_port_are_the_callers(tmp_path: Path) -> None:
    config = parse_config(
        options_to_config(
            serial_options(retention_days=30),
            data_dir=str(tmp_path),
            api_port=18765,
            profile_dir=str(tmp_path / "profiles"),
        ),
        "test",
    )
    assert (config.data_dir, config.api_port) == (tmp_path, 18765)
    assert config.profile_dir == tmp_path / "profiles"
    assert config.retention_days == 30


def test_a_user_profile_in_the_profile_folder_is_found(tmp_path: Path) -> None:
    builtin = ROOT / "addon" / "electrical_safety_bridge" / "profiles" / "builtin"
    text = (builtin / "acrel_asj.yaml").read_text(encoding="utf-8")
    (tmp_path / "mine.yaml").write_text(text.replace("model: ASJ", "model: MY-ASJ"))
    options = serial_options(devices=[{"id": "mine", "unit": 4, "profile": "MY-ASJ"}])
    config = check_options(options, profile_dir=str(tmp_path))
    assert parse_config(config, "test").buses[0].devices[0].profile.model == "MY-ASJ"


def test_the_local_broker_is_passed_through_as_the_mqtt_section_when_the_relay_uses_it() -> None:
    broker = {
        "addon": "core_mosquitto",
        "host": "core-mosquitto",
        "port": 1883,
        "ssl": False,
        "username": "addons",
        "password": "secret",
        "protocol": "3.1.1",
    }
    # Relay off: the broker's password is not written where nothing uses it.
    assert "mqtt" not in options_to_config(serial_options(), mqtt=broker)
    config = options_to_config(serial_options(relay_mqtt=True), mqtt=broker)
    assert config["mqtt"] == {
        "host": "core-mosquitto",
        "port": 1883,
        "username": "addons",
        "password": "secret",
        "ssl": False,
    }


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            {"buses": [{"id": "x", "device": ADAPTER, "host": "10.0.0.1", "port": 502}]},
            "buses[0]: give either device (a USB adapter) or host (a gateway), not both",
            id="device-and-host",
        ),
        pytest.param(
            {"buses": [{"id": "x"}]},
            "buses[0]: give device (a /dev/serial/by-id/ path) or host and port",
            id="no-line",
        ),
        pytest.param(
            {"buses": [{"id": "x", "host": "10.0.0.1"}]},
            "buses[0].port: give the gateway's TCP port, usually 502",
            id="host-without-port",
        ),
        pytest.param(
            {"buses": [{"id": "x", "device": ADAPTER, "port": 502}]},
            "buses[0]: port and protocol are for a gateway (host), not a device",
            id="port-on-a-serial-bus",
        ),
        pytest.param(
            {"devices": [{"id": "d", "bus": "nowhere", "unit": 1, "profile": "ASJ"}]},
            "devices[0].bus: there is no bus 'nowhere' (buses: panel-1)",
            id="unknown-bus",
        ),
        pytest.param(
            {
                "buses": [{"id": "a", "device": ADAPTER}, {"id": "b", "device": ADAPTER + "2"}],
                "devices": [
                    {"id": "d", "unit": 1, "profile": "ASJ"},
                    {"id": "e", "bus": "b", "unit": 1, "profile": "ASJ"},
                ],
            },
            "devices[0].bus: name the bus of this device, one of a, b",
            id="bus-left-out-with-two-buses",
        ),
        pytest.param(
            {
                "buses": [{"id": "a", "device": ADAPTER}, {"id": "b", "device": ADAPTER + "2"}],
                "devices": [{"id": "d", "bus": "a", "unit": 1, "profile": "ASJ"}],
            },
            "buses[1]: no device names bus 'b'; add one or remove it",
            id="bus-without-devices",
        ),
        pytest.param(
            {"buses": [], "devices": []},
            "buses: add at least one bus",
            id="no-buses",
        ),
        pytest.param(
            {"devices": []},
            "devices: add at least one detector, with its bus, unit and profile",
            id="no-devices",
        ),
        pytest.param(
            {"buses": [{"id": "panel 1", "device": ADAPTER}]},
            "buses[0].id: use letters, digits, - _ . (at most 64)",
            id="bad-bus-id",
        ),
        pytest.param(
            {"devices": [{"id": "d", "unit": 0, "profile": "ASJ"}]},
            "devices[0].unit: value must be at least 1",
            id="unit-zero",
        ),
        pytest.param(
            {"devices": [{"id": "d", "unit": 1}]},
            "devices[0].profile: required key not provided",
            id="no-profile",
        ),
        pytest.param(
            {"log_level": "chatty"},
            "log_level: value must be one of",
            id="bad-log-level",
        ),
        pytest.param({"colour": "red"}, "colour: extra keys not allowed", id="unknown-option"),
    ],
)
def test_bad_options_name_the_option_and_the_fix(change: dict[str, Any], expected: str) -> None:
    problems = problems_of(serial_options(**change))
    assert any(expected in problem for problem in problems), problems


def test_bridge_problems_are_reported_with_the_option_paths() -> None:
    problems = problems_of(
        serial_options(
            buses=[{"id": "a", "device": ADAPTER}, {"id": "b", "host": "10.0.0.9", "port": 502}],
            devices=[
                {"id": "b1", "bus": "b", "unit": 1, "profile": "ASJ"},
                {"id": "a1", "bus": "a", "unit": 1, "profile": "NO-SUCH-MODEL"},
                {"id": "b1", "bus": "b", "unit": 1, "profile": "ASJ"},
            ],
        )
    )
    assert any(p.startswith("devices[1].profile: no profile for this model") for p in problems)
    assert any("known models:" in p and "AIM-R100" in p for p in problems)
    assert "devices[2].id: 'b1' is already used at devices[0]" in problems
    assert "devices[2].unit: unit 1 is already b1" in problems
    assert not any("buses[" in p and ".devices[" in p for p in problems), problems


def test_a_template_profile_is_refused_with_what_to_fill_in() -> None:
    problems = problems_of(
        serial_options(devices=[{"id": "arc", "unit": 9, "profile": "AAFD (template)"}])
    )
    assert problems[0].startswith("devices[0].profile:")
    assert "fill in from the device manual" in problems[0]


def write_options(folder: Path, options: object) -> Path:
    path = folder / "options.json"
    path.write_text(json.dumps(options), encoding="utf-8")
    return path


def test_main_writes_a_config_the_bridge_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "bridge.yaml"
    output.write_text("old: file\n", encoding="utf-8")
    options = write_options(tmp_path, serial_options())
    assert main([str(options), str(output), "--data-dir", str(tmp_path)]) == 0
    config = load_config(output)
    assert config.data_dir == tmp_path
    assert [d.id for d in config.buses[0].devices] == ["main-rcm", "kitchen"]
    assert "1 bus(es), 2 device(s)" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bridge.yaml", "options.json"]


def test_main_refuses_bad_options_and_leaves_the_old_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "bridge.yaml"
    output.write_text("old: file\n", encoding="utf-8")
    options = write_options(tmp_path, serial_options(devices=[{"id": "d", "unit": 1}]))
    assert main([str(options), str(output)]) == 1
    err = capsys.readouterr().err
    assert "The add-on options have 1 problem(s):" in err
    assert "  - devices[0].profile: required key not provided" in err
    assert output.read_text(encoding="utf-8") == "old: file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bridge.yaml", "options.json"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot read"),
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe{}", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
    ],
)
def test_main_explains_an_unreadable_options_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, expected: str
) -> None:
    options = tmp_path / "options.json"
    if content is not None:
        options.write_bytes(content)
    assert main([str(options), str(tmp_path / "bridge.yaml")]) == 1
    assert expected in capsys.readouterr().err
    assert not (tmp_path / "bridge.yaml").exists()


def test_the_run_script_command_works_as_a_module(tmp_path: Path) -> None:
    options = write_options(tmp_path, serial_options())
    output = tmp_path / "bridge.yaml"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "electrical_safety_bridge.config.addon_options",
            str(options),
            str(output),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "addon")},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(output.read_text(encoding="utf-8"))["api"]["host"] == "0.0.0.0"


# site and installations ---------------------------------------------------------------------


def site_options(**extra: Any) -> dict[str, Any]:
    """A Japanese flat: the site, its contract, and the main detector's installation."""
    options = serial_options(
        site={
            "name": "Sakura Heights 201",
            "region": "jp",
            "latitude": 35.6812,
            "longitude": 139.7671,
            "supply_system": "single_phase_3wire",
        },
        site_contracts=[{"unit": "kVA", "value": 6}],
        **extra,
    )
    options["devices"][0] |= {
        "ct_rating_a": 100,
        "ct_location": "service_entrance",
        "circuit": "Main incomer",
        "circuit_rated_current_a": 60,
        "room": "Hallway",
    }
    return options


def test_the_site_and_an_installation_become_the_bridges_blocks() -> None:
    config = check_options(site_options())
    assert config["site"] == {
        "name": "Sakura Heights 201",
        "region": "jp",
        "latitude": 35.6812,
        "longitude": 139.7671,
        "supply_system": "single_phase_3wire",
        "contracts": [{"unit": "kVA", "value": 6.0}],
    }
    main_rcm, kitchen = config["buses"][0]["devices"]
    assert main_rcm["installation"] == {
        "ct_rating_a": 100.0,
        "ct_location": "service_entrance",
        "circuit": "Main incomer",
        "circuit_rated_current_a": 60.0,
        "room": "Hallway",
    }
    assert "installation" not in kitchen
    parsed = parse_config(config, "test")
    assert parsed.site.site("bridge").id == "sakura-heights-201"
    assert parsed.buses[0].devices[0].installation is not None


def test_no_site_options_no_site_block_and_cleared_fields_are_not_given() -> None:
    assert "site" not in check_options(serial_options(site={}, site_contracts=[]))
    options = serial_options(site={"name": "Flat 3", "id": "", "supply_system": ""})
    options["devices"][0] |= {"ct_location": "", "circuit": ""}
    config = check_options(options)
    assert config["site"] == {"name": "Flat 3", "contracts": []}
    assert "installation" not in config["buses"][0]["devices"][0]


def test_site_fields_without_a_name_are_refused() -> None:
    options = serial_options(site={"region": "jp"}, site_contracts=[{"unit": "A", "value": 60}])
    assert problems_of(options) == [
        "site.name: give the site's name (for example Flat 3) to use region, site_contracts"
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"site": {"name": "Flat 3", "region": "kr"}},
            "site.region: must be one of cn, jp, generic (got 'kr')",
        ),
        (
            {"site": {"name": "Flat 3", "latitude": 35.7}},
            "site.longitude: give longitude with latitude, or neither",
        ),
        (
            {"site": {"name": "Flat 3"}, "site_contracts": [{"unit": "kWh", "value": 6}]},
            "site_contracts[0].unit: must be one of A, kVA, kW (got 'kWh')",
        ),
        (
            {"site": {"name": "Flat 3", "id": "flat-3"}, "relay_site": "flat-4"},
            "relay_site: 'flat-4' differs from site.id 'flat-3'; a bridge serves one site:"
            " give the id once, as site.id",
        ),
    ],
)
def test_site_problems_name_the_option_and_the_value(change: dict[str, Any], expected: str) -> None:
    options = serial_options(**change)
    if "relay_site" in change:
        options |= {"relay_mqtt": True, "relay_broker": {"host": "broker.example"}}
    assert problems_of(options) == [expected]


def test_installation_problems_name_the_devices_own_option() -> None:
    options = serial_options()
    options["devices"][1] |= {"ct_rating_a": 0, "ct_location": "neutral"}
    assert sorted(problems_of(options)) == [
        "devices[1].ct_location: must be one of service_entrance, grounding_wire (got 'neutral')",
        "devices[1].ct_rating_a: must be more than 0 (got 0.0)",
    ]


def test_early_warning_options_reach_the_bridge_and_their_problems_name_the_option() -> None:
    options = {
        "buses": [{"id": "b", "device": "/dev/ttyUSB0"}],
        "devices": [{"id": "a", "unit": 1, "profile": "ASJ"}],
        "early_warning": {"horizon_days": 60, "clear_horizon_days": 90, "min_days": 14},
    }
    config = parse_config(options_to_config(options), "options")
    settings = config.early_warning.settings
    assert (settings.horizon_days, settings.clear_horizon_days, settings.min_days) == (60, 90, 14)
    problems = problems_of(options | {"early_warning": {"horizon_days": 200}})
    assert any(
        p.startswith("early_warning.clear_horizon_days: must be more than horizon_days")
        for p in problems
    ), problems
