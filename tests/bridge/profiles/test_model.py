"""Profiles: the shipped register maps, the templates, and what a malformed file is told."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from electrical_safety_bridge.common.enums import (
    ChannelKind,
    CommandName,
    DeviceKind,
    PollClass,
    SetpointKind,
)
from electrical_safety_bridge.errors import ProfileError, ProfileIncomplete
from electrical_safety_bridge.profiles.loader import (
    BrokenUserProfile,
    catalogue,
    find_profile,
    load_profile_file,
    load_profile_text,
    resolve_profile,
)
from electrical_safety_bridge.profiles.model import (
    Channel,
    Profile,
    RegisterType,
    Setpoint,
    parse_profile,
)

PROFILES = Path(__file__).parents[3] / "addon" / "electrical_safety_bridge" / "profiles"
BUILTIN = sorted((PROFILES / "builtin").glob("*.yaml"))
SIMULATED = sorted((PROFILES / "simulated").glob("*.yaml"))
TEMPLATES = sorted((PROFILES / "templates").glob("*.yaml"))


def read_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def minimal() -> dict[str, Any]:
    """The smallest valid profile, to break one thing at a time."""
    return {
        "manufacturer": "Test",
        "model": "T-1",
        "kind": "residual_current_detector",
        "manual_version": "1",
        "verified": True,
        "source": "a test",
        "channels": [
            {
                "key": "residual_current",
                "address": 0,
                "unit": "mA",
                "kind": "residual_current",
                "alarm": {"source": "status", "states": ["alarm"]},
            },
            {
                "key": "status",
                "address": 1,
                "type": "bitfield",
                "bit": 0,
                "bits": 2,
                "states": {0: "normal", 1: "alarm"},
                "kind": "alarm_status",
            },
        ],
        "setpoints": [
            {
                "key": "threshold",
                "address": 2,
                "kind": "residual_current_alarm",
                "min": 20,
                "max": 1000,
            }
        ],
        "commands": {"reset": {"address": 3, "value": 1}},
    }


def problems_of(data: Any, tmp_path: Path, name: str = "broken.yaml") -> list[str]:
    """Write a profile, load it, and return the problems it must raise; never a Profile."""
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ProfileError) as caught:
        load_profile_file(path)
    error = caught.value
    assert not isinstance(error, ProfileIncomplete)
    assert str(error).startswith(f"{path}: ")
    assert error.source == str(path)
    return error.problems


def test_minimal_profile_loads() -> None:
    profile = parse_profile(minimal(), "minimal")
    assert profile.model == "T-1"
    assert profile.origin == "minimal"
    assert profile.channel("status").register.states == {0: "normal", 1: "alarm"}


# --------------------------------------------------------------------------- shipped profiles


@pytest.mark.parametrize("path", BUILTIN + SIMULATED, ids=lambda p: p.name)
def test_every_shipped_profile_loads(path: Path) -> None:
    profile = load_profile_file(path)
    assert profile.verified
    assert profile.can_write
    assert profile.source
    assert all(c.register.address is not None for c in profile.channels)
    assert all(s.register.address is not None for s in profile.setpoints)
    assert all(c.address is not None for c in profile.commands.values())


def test_catalogue_lists_every_shipped_file_in_its_group() -> None:
    entries = {entry.model: entry for entry in catalogue()}
    groups = {model: entry.group for model, entry in entries.items()}
    assert groups == {
        "AIM-R100": "builtin",
        "ASJ": "builtin",
        "SIM-ARCM": "simulated",
        "SIM-AAFD": "simulated",
        "ARCM300 (template)": "template",
        "AAFD (template)": "template",
        "ASCP200 (template)": "template",
    }
    for entry in entries.values():
        if entry.group == "template":
            assert isinstance(entry.error, ProfileIncomplete)
            assert entry.profile is None
        else:
            assert entry.error is None
            assert entry.profile is not None


def test_catalogue_lists_what_a_user_wants_first() -> None:
    order = [entry.group for entry in catalogue()]
    assert order == sorted(order, key=["builtin", "user", "simulated", "template"].index)


# --------------------------------------------------------------------------- AIM-R100 (§3.1)


@pytest.fixture(scope="module")
def aim() -> Profile:
    return find_profile("AIM-R100")


def test_aim_r100_reads_twelve_loops_from_004a(aim: Profile) -> None:
    loops = [c for c in aim.channels if c.kind is ChannelKind.RESIDUAL_CURRENT]
    assert [c.key for c in loops] == [f"loop_{n}_residual_current" for n in range(1, 13)]
    assert [c.register.address for c in loops] == list(range(0x004A, 0x0056))
    assert all(c.unit == "mA" and c.register.type is RegisterType.U16 for c in loops)


def test_aim_r100_setpoints_are_at_0056_within_6_to_1000_ma(aim: Profile) -> None:
    setpoints = [s for s in aim.setpoints if s.kind is SetpointKind.RESIDUAL_CURRENT_ALARM]
    assert [s.register.address for s in setpoints] == list(range(0x0056, 0x0062))
    assert {(s.minimum, s.maximum, s.unit) for s in setpoints} == {(6, 1000, "mA")}
    assert aim.setpoint("tripping_time").register.address == 0x0008
    assert (aim.setpoint("tripping_time").minimum, aim.setpoint("tripping_time").maximum) == (0, 60)


def test_aim_r100_loop_alarm_is_its_own_setpoint(aim: Profile) -> None:
    for n in range(1, 13):
        channel = aim.channel(f"loop_{n}_residual_current")
        assert any(c.above == f"loop_{n}_alarm_setpoint" for c in channel.alarm)
        assert {s for c in channel.wiring_fault for s in c.states} == {
            "short_circuit",
            "open_circuit",
        }


def test_aim_r100_loop_faults_are_two_bits_each_in_000b_and_000c(aim: Profile) -> None:
    states = {0: "normal", 1: "short_circuit", 2: "open_circuit", 3: "overload"}
    faults = [aim.channel(f"loop_{n}_fault") for n in range(1, 13)]
    assert [(f.register.address, f.register.bit) for f in faults] == [
        (0x000B, 6),
        (0x000B, 4),
        (0x000B, 2),
        (0x000B, 0),
        *[(0x000C, bit) for bit in range(14, -1, -2)],
    ]
    assert all(f.register.bits == 2 and f.register.states == states for f in faults)
    assert all(f.poll is PollClass.ALARM for f in faults)


def test_aim_r100_event_value_has_the_sensor_fault_sentinels_at_000e(aim: Profile) -> None:
    value = aim.channel("last_event_value")
    assert value.register.address == 0x000E
    assert value.register.sentinels == {0xE5E5: "short_circuit", 0xFAFA: "open_circuit"}


def test_aim_r100_identifies_by_the_meter_type_nibble_of_000b(aim: Profile) -> None:
    assert aim.identify is not None
    assert (aim.identify.address, aim.identify.mask, aim.identify.equals) == (
        0x000B,
        0xF000,
        0x1000,
    )
    meter_type = aim.channel("meter_type").register
    assert (meter_type.address, meter_type.bit, meter_type.bits) == (0x000B, 12, 4)
    assert meter_type.states[1] == "residual_current_monitor"


def test_aim_r100_has_no_commands_because_the_manual_lists_none(aim: Profile) -> None:
    assert aim.commands == {}
    assert aim.read_function == 3
    assert (aim.serial.baudrate, aim.serial.unit) == (9600, 1)


# --------------------------------------------------------------------------- ASJ (§3.2)


@pytest.fixture(scope="module")
def asj() -> Profile:
    return find_profile("ASJ")


def test_asj_residual_current_is_at_0000(asj: Profile) -> None:
    channel = asj.channel("residual_current")
    assert channel.register.address == 0x0000
    assert channel.unit == "mA"


def test_asj_status_at_001b_names_its_states(asj: Profile) -> None:
    status = asj.channel("alarm_status").register
    assert (status.address, status.bit, status.bits) == (0x001B, 0, 3)
    assert status.states == {0: "normal", 1: "warning", 2: "alarm", 4: "broken_line"}
    channel = asj.channel("residual_current")
    assert [c.states for c in channel.alarm] == [("alarm",)]
    assert [c.states for c in channel.warning] == [("warning",)]
    assert [c.states for c in channel.wiring_fault] == [("broken_line",)]


def test_asj_setpoints_match_the_manual(asj: Profile) -> None:
    expected = {
        "rated_residual_operating_current": (0x0008, 10, 30000, "mA"),
        "prewarning_current": (0x0009, 10, 30000, "mA"),
        "trip_delay": (0x0010, 0, 10000, "ms"),
    }
    for key, (address, low, high, unit) in expected.items():
        setpoint = asj.setpoint(key)
        assert (setpoint.register.address, setpoint.minimum, setpoint.maximum, setpoint.unit) == (
            address,
            low,
            high,
            unit,
        )
    assert asj.setpoint("rated_residual_operating_current").kind is (
        SetpointKind.RESIDUAL_CURRENT_ALARM
    )


def test_asj_digital_inputs_and_comms_registers(asj: Profile) -> None:
    inputs = [asj.channel(f"digital_input_{n}").register for n in (1, 2)]
    assert [(r.address, r.bit) for r in inputs] == [(0x001E, 0), (0x001E, 1)]
    assert asj.channel("modbus_address").register.address == 0x0018
    assert asj.channel("baud_rate").register.address == 0x0019
    assert asj.commands == {}


# --------------------------------------------------------------------------- templates


def fill(data: dict[str, Any], missing: list[str]) -> dict[str, Any]:
    """Fill every listed field with a plausible value, as a user copying a manual would."""
    data = copy.deepcopy(data)
    pattern = re.compile(r"^(channels|setpoints)\[(\d+)\] \([a-z0-9_{}n]+\)\.(\w+)$")
    next_address = iter(range(0x0100, 0x1000, 2))
    for path in missing:
        if match := pattern.match(path):
            section, index, name = match[1], int(match[2]), match[3]
            entry = data[section][int(index)]
            if name == "address":
                entry["address"] = next(next_address)
            elif name == "bit":
                entry["bit"] = 0
            elif name == "states":
                entry["states"] = {0: "open", 1: "closed"}
            elif name == "options":
                entry["options"] = {0: "off", 1: "alarm", 2: "trip"}
            else:
                entry[name] = 0 if name == "min" else 100
        else:
            _, command, name = path.split(".")
            data["commands"][command][name] = next(next_address) if name == "address" else 1
    return data


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_template_lists_every_address_to_fill(path: Path) -> None:
    with pytest.raises(ProfileIncomplete) as caught:
        load_profile_file(path)
    error = caught.value
    data = read_yaml(path)
    expected: list[str] = []
    for section in ("channels", "setpoints"):
        for index, entry in enumerate(data.get(section, [])):
            label = f"{section}[{index}] ({entry['key']})"
            expected.append(f"{label}.address")
            if entry.get("type") == "bitfield":
                expected.append(f"{label}.bit")
            if entry["key"] == "breaker":
                expected.append(f"{label}.states")
            expected.extend(
                f"{label}.{b}" for b in ("min", "max", "options") if b in entry and entry[b] is None
            )
    for name in data.get("commands", {}):
        expected += [f"commands.{name}.address", f"commands.{name}.value"]
    assert error.missing == expected
    assert error.problems == [f"{field}: fill in from the device manual" for field in expected]
    assert str(error).startswith(f"{path}: channels[0] (")


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_template_loads_once_every_listed_field_is_filled(path: Path) -> None:
    # Nothing but the listed fields is wrong: filling exactly those gives a usable profile.
    data = read_yaml(path)
    with pytest.raises(ProfileIncomplete) as caught:
        parse_profile(copy.deepcopy(data), path.name)
    profile = parse_profile(fill(data, caught.value.missing), path.name)
    assert not profile.verified
    assert not profile.can_write


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_template_invents_no_address_bit_or_command_value(path: Path) -> None:
    data = read_yaml(path)
    assert data["verified"] is False
    assert not data.get("simulated", False)
    assert "identify" not in data
    for entry in [*data["channels"], *data.get("setpoints", [])]:
        assert entry["address"] is None, entry["key"]
        assert "repeat" not in entry, entry["key"]
        if entry.get("type") == "bitfield":
            assert entry["bit"] is None, entry["key"]
            assert "states" not in entry, entry["key"]
    for name, command in data.get("commands", {}).items():
        assert command["address"] is None, name
        assert command["value"] is None, name


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_template_says_no_public_map_exists_and_where_to_fill_it_from(path: Path) -> None:
    data = read_yaml(path)
    assert data["manufacturer"] == "Acrel"
    assert data["model"].endswith("(template)")
    assert "No public Modbus register map exists" in data["source"]
    assert "devices.md §" in data["source"]
    assert "http" in data["source"]
    assert "manual that came with your device" in data["notes"]


def template(name: str) -> dict[str, Any]:
    return read_yaml(PROFILES / "templates" / name)


def alarm_sources(entry: dict[str, Any], label: str = "alarm") -> set[str]:
    conditions = entry.get(label) or []
    if isinstance(conditions, dict):
        conditions = [conditions]
    return {c["source"] for c in conditions}


def test_arcm300_template_has_the_channel_set_of_the_4g_payload() -> None:
    data = template("acrel_arcm300_template.yaml")
    channels = {c["key"]: c for c in data["channels"]}
    temperatures = [f"temperature_{n}" for n in range(1, 5)]
    for key in ["residual_current", *temperatures]:
        assert alarm_sources(channels[key]) == {f"{key}_alarm"}
        assert alarm_sources(channels[key], "wiring_fault") == {f"{key}_wiring_fault"}
        assert channels[f"{key}_alarm"]["kind"] == "alarm_status"
        assert channels[f"{key}_wiring_fault"]["kind"] == "fault_status"
        assert channels[f"{key}_at_alarm"]["kind"] == "value_at_alarm"
    assert channels["residual_current"]["unit"] == "mA"
    assert {channels[k]["unit"] for k in temperatures} == {"°C"}
    for phase in "abc":
        assert alarm_sources(channels[f"voltage_{phase}"]) == {"over_voltage", "under_voltage"}
        assert alarm_sources(channels[f"current_{phase}"]) == {"over_current"}
    kinds = {c["kind"] for c in data["channels"]}
    assert {"power", "energy", "frequency", "digital_input", "digital_output"} <= kinds
    assert {"digital_input_1", "digital_input_2", "digital_output_1", "digital_output_2"} <= set(
        channels
    )


def test_arcm300_template_setpoints_and_commands() -> None:
    data = template("acrel_arcm300_template.yaml")
    setpoints = {s["key"]: s for s in data["setpoints"]}
    rc = setpoints["residual_current_alarm_setpoint"]
    assert (rc["kind"], rc["min"], rc["max"], rc["unit"]) == (
        "residual_current_alarm",
        300,
        1000,
        "mA",
    )
    for n in range(1, 5):
        assert setpoints[f"temperature_{n}_alarm_setpoint"]["kind"] == "temperature_alarm"
    assert setpoints["action_delay"]["kind"] == "delay"
    assert setpoints["protection_mode"]["kind"] == "mode"
    assert "300-500 mA" in data["notes"]
    assert "GB 50116" in data["notes"]
    assert set(data["commands"]) == {"reset", "mute", "self_test", "trip"}


def test_aafd_template_flags_the_arc_count_as_an_open_question() -> None:
    data = template("acrel_aafd_template.yaml")
    channels = {c["key"]: c for c in data["channels"]}
    assert channels["arc_count"]["kind"] == "arc_count"
    assert alarm_sources(channels["arc_count"]) == {"arc_alarm"}
    assert alarm_sources(channels["arc_count"], "wiring_fault") == {"fault"}
    assert {"residual_current", "temperature_1", "temperature_2"} <= set(channels)
    assert "§9" in data["notes"]
    assert "arc simulation" in data["notes"]
    assert set(data["commands"]) == {"reset", "mute", "self_test"}


def test_ascp_template_verifies_trip_and_close_on_the_breaker() -> None:
    data = template("acrel_ascp_template.yaml")
    channels = {c["key"]: c for c in data["channels"]}
    assert channels["breaker"]["kind"] == "breaker"
    assert set(data["commands"]) == {"reset", "trip", "close"}
    assert data["commands"]["trip"]["verify"] == {"channel": "breaker", "state": "open"}
    assert data["commands"]["close"]["verify"] == {"channel": "breaker", "state": "closed"}
    # close needs alarm conditions to interlock against.
    assert any(alarm_sources(c) for c in data["channels"])


# --------------------------------------------------------------------------- simulator maps


@pytest.mark.parametrize("model", ["SIM-ARCM", "SIM-AAFD"])
def test_simulator_profile_never_claims_to_be_a_vendor_map(model: str) -> None:
    profile = find_profile(model)
    assert profile.simulated
    assert profile.verified
    assert profile.can_write
    assert profile.manufacturer == "Simulator"
    assert "NOT an Acrel register map" in profile.source
    assert "Never use it with real hardware" in profile.source
    assert "devices.md §" in profile.source
    assert profile.identify is not None


def test_sim_arcm_has_a_threshold_setpoint_for_every_alarmed_measurement() -> None:
    profile = find_profile("SIM-ARCM")
    assert profile.kind is DeviceKind.RESIDUAL_CURRENT_DETECTOR
    for key in ["residual_current", *[f"temperature_{n}" for n in range(1, 5)]]:
        channel = profile.channel(key)
        assert [c.source for c in channel.alarm] == [f"{key}_alarm"]
        assert [c.source for c in channel.wiring_fault] == [f"{key}_wiring_fault"]
        assert profile.setpoint(f"{key}_alarm_setpoint")
        flag = profile.channel(f"{key}_alarm").register
        fault = profile.channel(f"{key}_wiring_fault").register
        assert (flag.type, flag.bits, fault.type, fault.bits) == (
            RegisterType.BITFIELD,
            1,
            RegisterType.BITFIELD,
            1,
        )
        assert profile.channel(f"{key}_at_alarm").kind is ChannelKind.VALUE_AT_ALARM
    rc = profile.setpoint("residual_current_alarm_setpoint")
    assert (rc.kind, rc.minimum, rc.maximum, rc.unit) == (
        SetpointKind.RESIDUAL_CURRENT_ALARM,
        20,
        1000,
        "mA",
    )
    for n in range(1, 5):
        setpoint = profile.setpoint(f"temperature_{n}_alarm_setpoint")
        assert (setpoint.minimum, setpoint.maximum) == (45, 140)
    assert [s.kind for s in profile.setpoints].count(SetpointKind.DELAY) == 1


def test_sim_arcm_flags_use_one_bit_per_channel() -> None:
    profile = find_profile("SIM-ARCM")
    keys = ["residual_current", *[f"temperature_{n}" for n in range(1, 5)]]
    for suffix in ("alarm", "wiring_fault"):
        registers = [profile.channel(f"{key}_{suffix}").register for key in keys]
        assert len({r.address for r in registers}) == 1
        assert [r.bit for r in registers] == [0, 1, 2, 3, 4]


def test_sim_arcm_measurement_types_and_scales() -> None:
    profile = find_profile("SIM-ARCM")
    expected = {
        "residual_current": (RegisterType.U16, 1.0, "mA"),
        "temperature_1": (RegisterType.S16, 0.1, "°C"),
        "voltage": (RegisterType.U16, 0.1, "V"),
        "current": (RegisterType.U16, 0.01, "A"),
        "power": (RegisterType.S32, 1.0, "W"),
        "energy": (RegisterType.U32, 0.01, "kWh"),
        "frequency": (RegisterType.U16, 0.01, "Hz"),
    }
    for key, (kind, scale, unit) in expected.items():
        channel = profile.channel(key)
        assert (channel.register.type, channel.register.scale, channel.unit) == (kind, scale, unit)


def test_sim_arcm_trips_through_do1_and_verifies_on_the_breaker() -> None:
    profile = find_profile("SIM-ARCM")
    breaker = profile.channel("breaker")
    assert breaker.kind is ChannelKind.BREAKER
    assert breaker.register.states == {0: "open", 1: "closed"}
    assert profile.channel("digital_output_1").kind is ChannelKind.DIGITAL_OUTPUT
    assert set(profile.commands) == set(CommandName)
    trip = profile.commands[CommandName.TRIP].verify
    close = profile.commands[CommandName.CLOSE].verify
    assert trip is not None and (trip.channel, trip.state) == ("breaker", "open")
    assert close is not None and (close.channel, close.state) == ("breaker", "closed")
    targets = [(c.address, c.value) for c in profile.commands.values()]
    assert len(set(targets)) == len(targets)


def test_sim_aafd_reports_arcs_and_simulates_them_on_self_test() -> None:
    profile = find_profile("SIM-AAFD")
    assert profile.kind is DeviceKind.ARC_FAULT_DETECTOR
    arc_count = profile.channel("arc_count")
    assert arc_count.register.type is RegisterType.U16
    assert [c.source for c in arc_count.alarm] == ["arc_alarm"]
    assert [c.source for c in arc_count.wiring_fault] == ["fault"]
    assert {c.kind for c in profile.channels} >= {
        ChannelKind.RESIDUAL_CURRENT,
        ChannelKind.TEMPERATURE,
        ChannelKind.ALARM_STATUS,
        ChannelKind.FAULT_STATUS,
    }
    assert set(profile.commands) == {CommandName.RESET, CommandName.MUTE, CommandName.SELF_TEST}


@pytest.mark.parametrize("model", ["SIM-ARCM", "SIM-AAFD"])
def test_simulator_map_shares_registers_only_between_flags(model: str) -> None:
    profile = find_profile(model)
    owners: dict[int, list[RegisterType]] = {}
    values: list[Channel | Setpoint] = [*profile.channels, *profile.setpoints]
    for value in values:
        for address in value.register.span:
            owners.setdefault(address, []).append(value.register.type)
    for address, types in owners.items():
        assert len(types) == 1 or set(types) == {RegisterType.BITFIELD}, hex(address)
    commands = {c.address for c in profile.commands.values()}
    assert not commands & set(owners)


# --------------------------------------------------------------------------- malformed files


@pytest.mark.parametrize(
    ("change", "path", "reason"),
    [
        (lambda d: d["channels"][0].update(type="u64"), "channels[0].type", "must be one of"),
        (lambda d: d["channels"][0].update(kind="leakage"), "channels[0].kind", "must be one of"),
        (lambda d: d.update(kind="toaster"), "kind", "must be one of"),
        (
            lambda d: d["channels"][0].update(address=0x10000),
            "channels[0].address",
            "between 0 and 0xFFFF",
        ),
        (lambda d: d["channels"][0].update(address=-1), "channels[0].address", "between 0"),
        (lambda d: d["channels"][0].update(address="4AH"), "channels[0].address", "integer"),
        (lambda d: d["setpoints"][0].update(min="low"), "setpoints[0].min", "must be a number"),
        (lambda d: d["channels"][0].update(scale=0), "channels[0].scale", "must not be zero"),
        (lambda d: d["channels"][1].update(bit=16), "channels[1].bit", "at most 15"),
        (lambda d: d["channels"][0].update(key="Residual"), "channels[0].key", "lower_snake_case"),
        (lambda d: d["channels"][0].update(colour="red"), "channels[0].colour", "extra keys"),
        (
            lambda d: d["commands"].update(explode={"address": 1, "value": 1}),
            "commands.explode",
            "",
        ),
        (lambda d: d["commands"]["reset"].update(value=70000), "commands.reset.value", "0xFFFF"),
        (lambda d: d.pop("source"), "source", "required"),
        (lambda d: d.update(channels=[]), "channels", "at least 1"),
        (lambda d: d.update(read_function=5), "read_function", "must be one of"),
        (lambda d: d["serial"].update(parity="X"), "serial.parity", "must be one of"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_schema_error_names_the_key_path_and_the_reason(
    tmp_path: Path, change: Any, path: str, reason: str
) -> None:
    data = minimal()
    data["serial"] = {}
    change(data)
    problems = problems_of(data, tmp_path)
    assert any(p.startswith(f"{path}: ") and reason in p for p in problems), problems


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["channels"][0]["alarm"].update(source="nowhere"),
            "channels[0] (residual_current).alarm.source: no channel named 'nowhere'",
        ),
        (
            lambda d: d["channels"][0]["alarm"].update(states=["fire"]),
            "channels[0] (residual_current).alarm.states: 'fire' is not a state of 'status'",
        ),
        (
            lambda d: d["channels"][0].update(warning={"above": "nothing"}),
            "channels[0] (residual_current).warning.above: no setpoint named 'nothing'",
        ),
        (
            lambda d: d["setpoints"][0].update(min=1000, max=20),
            "setpoints[0] (threshold).min: greater than max",
        ),
        (
            lambda d: d["channels"][1].update(key="residual_current"),
            "channels[1] (residual_current).key: 'residual_current' is already used at"
            " channels[0] (residual_current)",
        ),
        (
            lambda d: d["setpoints"][0].update(key="status"),
            "setpoints[0] (status).key: 'status' is already used at channels[1] (status)",
        ),
        (
            lambda d: d["channels"][1].update(bit=15, bits=2),
            "channels[1] (status).bit: bits 15..16 do not fit in 16",
        ),
        (
            lambda d: d["channels"][0].update(bit=3),
            "channels[0] (residual_current).bit: only a bitfield has bit and bits",
        ),
        (
            lambda d: d["channels"][0].update(states={0: "off"}),
            "channels[0] (residual_current).states: only a bitfield has named states",
        ),
        (
            lambda d: d["channels"][0].update(key="loop_{n}"),
            "channels[0] (loop_{n}).key: '{n}' only makes sense with repeat",
        ),
        (
            lambda d: d["commands"].update(
                trip={"address": 9, "value": 1, "verify": {"channel": "x"}}
            ),
            "commands.trip.verify.channel: no channel named 'x'",
        ),
        (
            lambda d: d["commands"].update(
                trip={"address": 9, "value": 1, "verify": {"channel": "status", "state": "open"}}
            ),
            "commands.trip.verify.state: 'open' is not a state of 'status'",
        ),
        (
            lambda d: (
                d["channels"][0].pop("alarm"),
                d["commands"].update(close={"address": 9, "value": 1}),
            ),
            "commands.close: the profile has no alarm conditions to interlock it",
        ),
    ],
)
def test_inconsistent_profile_error_names_the_entry_and_the_reason(
    tmp_path: Path, change: Any, expected: str
) -> None:
    data = minimal()
    change(data)
    assert expected in problems_of(data, tmp_path)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    data = minimal()
    data["channels"][0]["type"] = "u64"
    data["channels"][1]["kind"] = "leakage"
    data["setpoints"][0]["min"] = "low"
    problems = problems_of(data, tmp_path)
    assert [p.split(":")[0] for p in problems] == [
        "channels[0].type",
        "channels[1].kind",
        "setpoints[0].min",
    ]


def test_verified_profile_with_empty_addresses_is_an_error_not_a_template(tmp_path: Path) -> None:
    data = minimal()
    data["channels"][0]["address"] = None
    data["commands"]["reset"]["value"] = None
    (problem,) = problems_of(data, tmp_path)
    assert problem.startswith("verified: ")
    assert "channels[0] (residual_current).address" in problem
    assert "commands.reset.value" in problem


def test_unverified_profile_with_empty_fields_lists_them(tmp_path: Path) -> None:
    data = minimal()
    data["verified"] = False
    data["channels"][1].update(address=None, bit=None, states={})
    data["setpoints"][0]["max"] = None
    path = tmp_path / "partial.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ProfileIncomplete) as caught:
        load_profile_file(path)
    assert caught.value.missing == [
        "channels[1] (status).address",
        "channels[1] (status).bit",
        "channels[1] (status).states",
        "setpoints[0] (threshold).max",
    ]


def test_a_repeated_entry_lists_its_empty_address_once(tmp_path: Path) -> None:
    data = minimal()
    data["verified"] = False
    data["channels"].append(
        {"key": "loop_{n}_current", "address": None, "repeat": 12, "kind": "residual_current"}
    )
    with pytest.raises(ProfileIncomplete) as caught:
        parse_profile(data, "repeat")
    assert caught.value.missing == ["channels[2] (loop_{n}_current).address"]


def test_problem_in_a_repeated_entry_names_the_instance(tmp_path: Path) -> None:
    data = minimal()
    data["channels"].append(
        {
            "key": "loop_{n}_current",
            "address": 10,
            "repeat": 3,
            "kind": "residual_current",
            "alarm": {"above": "loop_{n}_setpoint"},
        }
    )
    problems = problems_of(data, tmp_path)
    assert problems == [
        f"channels[2] (loop_{n}_current).alarm.above: no setpoint named 'loop_{n}_setpoint'"
        for n in (1, 2, 3)
    ]


def test_yaml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    path = tmp_path / "syntax.yaml"
    path.write_text("manufacturer: Test\nmodel: [T-1\nkind: x\n", encoding="utf-8")
    with pytest.raises(ProfileError) as caught:
        load_profile_file(path)
    (problem,) = caught.value.problems
    assert re.match(r"line \d+, column \d+: not valid YAML: ", problem)
    assert str(caught.value).startswith(f"{path}: line ")


def test_braces_in_a_flow_mapping_are_a_yaml_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "braces.yaml"
    path.write_text("a: 1\nalarm: {source: loop_{n}_alarm}\n", encoding="utf-8")
    with pytest.raises(ProfileError, match=r"line 2, column \d+: not valid YAML"):
        load_profile_file(path)


def test_duplicate_yaml_key_is_refused_with_both_lines(tmp_path: Path) -> None:
    text = yaml.safe_dump(minimal(), sort_keys=False).replace(
        "  address: 0\n", "  address: 0\n  address: 74\n", 1
    )
    path = tmp_path / "duplicate.yaml"
    path.write_text(text, encoding="utf-8")
    first = text.splitlines().index("  address: 0") + 1
    with pytest.raises(ProfileError) as caught:
        load_profile_file(path)
    (problem,) = caught.value.problems
    assert problem == (
        f"channels[0].address: duplicate key on line {first + 1} (first given on line {first})"
    )


def test_yaml_anchors_and_merge_keys_still_work() -> None:
    text = """
manufacturer: Test
model: T-1
kind: residual_current_detector
manual_version: "1"
verified: true
source: a test
channels:
  - &loop {key: loop_1, address: 0, kind: residual_current, unit: mA}
  - <<: *loop
    key: loop_2
    address: 1
"""
    profile = load_profile_text(text, "anchors")
    assert [(c.key, c.register.address, c.unit) for c in profile.channels] == [
        ("loop_1", 0, "mA"),
        ("loop_2", 1, "mA"),
    ]


@pytest.mark.parametrize("text", ["", "- a list\n", "just text\n"])
def test_a_file_that_is_not_a_mapping_is_refused(text: str) -> None:
    with pytest.raises(ProfileError, match="must be a mapping"):
        load_profile_text(text, "odd.yaml")


def test_an_unreadable_file_is_a_profile_error(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="cannot read"):
        load_profile_file(tmp_path / "missing.yaml")


# --------------------------------------------------------------------------- repeat


def test_repeat_numbers_keys_and_moves_addresses_and_bits() -> None:
    data = minimal()
    data["channels"] += [
        {
            "key": "t_{n}",
            "name": "T {n}",
            "address": 0x10,
            "repeat": 3,
            "type": "u32",
            "kind": "temperature",
        },
        {
            "key": "flag_{n}",
            "address": 0x20,
            "repeat": 3,
            "first": 5,
            "stride": 0,
            "type": "bitfield",
            "bit": 14,
            "bit_stride": -2,
            "bits": 2,
            "kind": "fault_status",
        },
    ]
    profile = parse_profile(data, "repeat")
    temps = [profile.channel(f"t_{n}") for n in (1, 2, 3)]
    assert [(c.name, c.register.address) for c in temps] == [
        ("T 1", 0x10),
        ("T 2", 0x12),
        ("T 3", 0x14),
    ]
    flags = [profile.channel(f"flag_{n}").register for n in (5, 6, 7)]
    assert [(r.address, r.bit) for r in flags] == [(0x20, 14), (0x20, 12), (0x20, 10)]


def test_poll_class_follows_the_channel_kind_unless_given() -> None:
    profile = parse_profile(minimal(), "poll")
    assert profile.channel("residual_current").poll is PollClass.TELEMETRY
    assert profile.channel("status").poll is PollClass.ALARM
    data = minimal()
    data["channels"][0]["poll"] = "alarm"
    assert parse_profile(data, "poll").channel("residual_current").poll is PollClass.ALARM


# --------------------------------------------------------------------------- writes


def test_an_unverified_profile_never_writes() -> None:
    data = minimal()
    data["verified"] = False
    profile = parse_profile(data, "unverified")
    assert not profile.can_write
    assert parse_profile(minimal(), "verified").can_write


# --------------------------------------------------------------------------- user folder


def test_user_profile_overrides_a_builtin_by_model_name(tmp_path: Path) -> None:
    data = read_yaml(PROFILES / "builtin" / "acrel_aim_r100.yaml")
    data["model"] = "aim-r100"  # model names match whatever their case
    data["source"] = "my own copy of the manual"
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    (entry,) = [e for e in catalogue(tmp_path) if e.model.casefold() == "aim-r100"]
    assert entry.group == "user"
    assert entry.origin == str(tmp_path / "mine.yaml")
    assert find_profile("AIM-R100", user_folder=tmp_path).source == "my own copy of the manual"
    assert find_profile("AIM-R100").source != "my own copy of the manual"


def test_user_can_complete_a_template_in_the_user_folder(tmp_path: Path) -> None:
    path = PROFILES / "templates" / "acrel_ascp_template.yaml"
    data = read_yaml(path)
    with pytest.raises(ProfileIncomplete) as caught:
        parse_profile(copy.deepcopy(data), "ascp")
    (tmp_path / "ascp.yml").write_text(
        yaml.safe_dump(fill(data, caught.value.missing), allow_unicode=True), encoding="utf-8"
    )
    profile = find_profile("ASCP200 (template)", user_folder=tmp_path)
    assert profile.origin == str(tmp_path / "ascp.yml")
    assert not profile.can_write


def test_broken_user_file_is_listed_with_its_error(tmp_path: Path) -> None:
    data = minimal()
    data["model"] = "My Detector"
    data["channels"][0]["kind"] = "leakage"
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    (tmp_path / "garbled.yaml").write_text("model: [\n", encoding="utf-8")

    entries = {e.model: e for e in catalogue(tmp_path) if e.group == "user"}
    assert set(entries) == {"My Detector", "garbled"}
    for entry in entries.values():
        assert entry.profile is None
        assert isinstance(entry.error, ProfileError)
    assert "channels[0].kind" in str(entries["My Detector"].error)
    with pytest.raises(ProfileError, match=r"channels\[0\]\.kind"):
        find_profile("My Detector", user_folder=tmp_path)


def test_broken_user_override_is_reported_not_replaced_by_the_builtin(tmp_path: Path) -> None:
    data = read_yaml(PROFILES / "builtin" / "acrel_asj.yaml")
    data["channels"][0]["address"] = 0x10000
    (tmp_path / "asj.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ProfileError, match="between 0 and 0xFFFF"):
        find_profile("ASJ", user_folder=tmp_path)


def test_missing_user_folder_is_no_error(tmp_path: Path) -> None:
    assert [e.model for e in catalogue(tmp_path / "absent")] == [e.model for e in catalogue()]


def test_unknown_model_lists_the_known_ones() -> None:
    with pytest.raises(ProfileError, match=r"known models: .*AIM-R100.*SIM-ARCM"):
        find_profile("ARCM999")


def test_find_profile_accepts_a_file_path() -> None:
    path = PROFILES / "simulated" / "sim_aafd.yaml"
    assert find_profile(str(path)).model == "SIM-AAFD"


def test_find_profile_raises_the_template_error_for_a_template() -> None:
    with pytest.raises(ProfileIncomplete) as caught:
        find_profile("arcm300 (TEMPLATE)")
    assert "channels[0] (residual_current).address" in caught.value.missing


# --------------------------------------------------------------------------- broken user overrides
#
# A broken file in the user folder must never be skipped in silence with the built-in map
# running in its place: the user would believe their own map is in use.

ASJ_TEXT = (PROFILES / "builtin" / "acrel_asj.yaml").read_text(encoding="utf-8")


def asj_with(old: str, new: str) -> str:
    """The shipped ASJ map with one change, as a user's edited copy would be."""
    assert old in ASJ_TEXT
    return ASJ_TEXT.replace(old, new, 1)


#: (file content, a reason the error must give, whether the model can still be told)
BROKEN_OVERRIDES: dict[str, tuple[str | bytes, str, bool]] = {
    "empty": ("", "(top level): must be a mapping of profile keys, but the file is empty", False),
    "only comments": ("# my ASJ map, to do\n", "the file is empty", False),
    "syntax error": (
        asj_with("    type: u16\n", "    type: [u16\n"),
        "not valid YAML",
        True,
    ),
    "duplicate key": (
        asj_with("    address: 0x0000\n", "    address: 0x0000\n    address: 0x0010\n"),
        "channels[0].address: duplicate key on line ",
        True,
    ),
    "missing model": (
        asj_with("model: ASJ\n", ""),
        "model: required key not provided",
        False,
    ),
    "a list": ("- model: ASJ\n", "must be a mapping of profile keys, but found a list", False),
    "a scalar": (
        "my asj map\n",
        "must be a mapping of profile keys, but found 'my asj map'",
        False,
    ),
    "binary": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "cannot read: not UTF-8 text", False),
    "control characters": (
        b"\x00\x00\x00\x01\nmodel: ASJ\n",
        "line 1, column 1: not valid YAML: character #x0000 is not allowed",
        True,
    ),
    "schema error": (
        asj_with("    kind: residual_current\n", "    kind: leakage\n"),
        "channels[0].kind: value must be one of",
        True,
    ),
    "unreadable model": (
        asj_with("model: ASJ\n", "model: [ASJ\n"),
        "not valid YAML",
        False,
    ),
}


def write_override(folder: Path, content: str | bytes, name: str = "my_override.yaml") -> Path:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("content", "reason", "model_known"), BROKEN_OVERRIDES.values(), ids=list(BROKEN_OVERRIDES)
)
def test_broken_user_override_raises_naming_the_file_and_the_reason(
    tmp_path: Path, content: str | bytes, reason: str, model_known: bool
) -> None:
    # The file name says nothing about the model: the loader must not rely on it.
    path = write_override(tmp_path, content)
    with pytest.raises(ProfileError) as caught:
        find_profile("ASJ", user_folder=tmp_path)
    error = caught.value
    assert error.source == str(path)
    assert str(error).startswith(f"{path}: ")
    assert any(reason in problem for problem in error.problems), error.problems
    if not model_known:
        assert isinstance(error, BrokenUserProfile)
        assert error.problems[-1].startswith("model: cannot be read from this file")
        assert "may be meant for any model ('ASJ' too)" in error.problems[-1]


@pytest.mark.parametrize(
    ("content", "reason", "model_known"), BROKEN_OVERRIDES.values(), ids=list(BROKEN_OVERRIDES)
)
def test_a_broken_file_of_unknown_model_blocks_every_model_and_one_of_known_model_only_its_own(
    tmp_path: Path, content: str | bytes, reason: str, model_known: bool
) -> None:
    path = write_override(tmp_path, content)
    if model_known:
        # It says it is the ASJ map: another model is not its business.
        assert find_profile("AIM-R100", user_folder=tmp_path).origin.endswith("acrel_aim_r100.yaml")
        return
    for model in ("AIM-R100", "SIM-ARCM", "NO-SUCH-MODEL"):
        with pytest.raises(BrokenUserProfile) as caught:
            find_profile(model, user_folder=tmp_path)
        assert caught.value.source == str(path)
        assert f"('{model}' too)" in str(caught.value)


def test_the_model_of_a_file_with_a_syntax_error_is_read_from_its_model_line(
    tmp_path: Path,
) -> None:
    write_override(tmp_path, "manufacturer: Me\nmodel: 'ASJ'  # my copy\nchannels: [\n")
    (entry,) = [e for e in catalogue(tmp_path) if e.group == "user"]
    assert (entry.model, entry.claimed_models) == ("ASJ", ("ASJ",))
    assert entry.error is not None


def test_a_model_given_twice_blocks_both_models(tmp_path: Path) -> None:
    write_override(tmp_path, asj_with("model: ASJ\n", "model: ASJ\nmodel: AIM-R100\n"))
    for model in ("ASJ", "AIM-R100"):
        with pytest.raises(ProfileError, match="model: duplicate key on line 5"):
            find_profile(model, user_folder=tmp_path)
    assert find_profile("SIM-ARCM", user_folder=tmp_path).model == "SIM-ARCM"


def test_a_model_line_survives_text_that_is_not_utf8(tmp_path: Path) -> None:
    latin1 = "manufacturer: Acrel\nmodel: ASJ\nnotes: caf\xe9\n".encode("latin-1")
    path = write_override(tmp_path, latin1)
    with pytest.raises(ProfileError) as caught:
        find_profile("asj", user_folder=tmp_path)
    assert str(caught.value).startswith(f"{path}: cannot read: not UTF-8 text")
    assert find_profile("AIM-R100", user_folder=tmp_path).model == "AIM-R100"


def test_a_user_template_left_incomplete_blocks_its_model(tmp_path: Path) -> None:
    text = (PROFILES / "templates" / "acrel_ascp_template.yaml").read_text(encoding="utf-8")
    write_override(tmp_path, text)
    with pytest.raises(ProfileIncomplete) as caught:
        find_profile("ASCP200 (template)", user_folder=tmp_path)
    assert caught.value.source == str(tmp_path / "my_override.yaml")


def test_several_broken_files_are_all_named(tmp_path: Path) -> None:
    schema = write_override(tmp_path, BROKEN_OVERRIDES["schema error"][0], "a_asj.yaml")
    empty = write_override(tmp_path, "", "b_notes.yaml")
    with pytest.raises(BrokenUserProfile) as caught:
        find_profile("ASJ", user_folder=tmp_path)
    error = caught.value
    assert error.source == str(tmp_path)
    assert list(error.by_file) == [str(schema), str(empty)]
    assert any(p.startswith("a_asj.yaml: channels[0].kind: ") for p in error.problems)
    assert any(p.startswith("b_notes.yaml: (top level): ") for p in error.problems)


def test_two_user_files_for_one_model_use_neither(tmp_path: Path) -> None:
    first = write_override(tmp_path, ASJ_TEXT, "asj.yaml")
    second = write_override(
        tmp_path, ASJ_TEXT.replace("verified: true", "verified: false"), "z.yml"
    )
    with pytest.raises(ProfileError) as caught:
        find_profile("ASJ", user_folder=tmp_path)
    assert caught.value.source == str(first)
    (problem,) = caught.value.problems
    assert problem == (
        f"model: 'ASJ' is also the model of {second}; keep one file per model in the user folder"
    )


def test_a_file_name_in_capitals_is_still_a_user_profile(tmp_path: Path) -> None:
    path = write_override(tmp_path, "", "ASJ.YAML")
    with pytest.raises(BrokenUserProfile, match=re.escape(str(path))):
        find_profile("ASJ", user_folder=tmp_path)


def test_a_profile_folder_that_is_not_a_folder_blocks_every_model(tmp_path: Path) -> None:
    folder = write_override(tmp_path, ASJ_TEXT, "profiles")
    with pytest.raises(BrokenUserProfile) as caught:
        find_profile("AIM-R100", user_folder=folder)
    assert caught.value.source == str(folder)
    assert caught.value.problems[0].startswith("cannot read the folder: ")


def test_a_profile_given_by_path_is_nobodys_override(tmp_path: Path) -> None:
    write_override(tmp_path, "")
    path = PROFILES / "simulated" / "sim_aafd.yaml"
    assert find_profile(str(path), user_folder=tmp_path).model == "SIM-AAFD"


def test_a_valid_override_next_to_unrelated_valid_files_is_used(tmp_path: Path) -> None:
    write_override(tmp_path, ASJ_TEXT.replace("verified: true", "verified: false"), "asj.yaml")
    entries = catalogue(tmp_path)
    assert not resolve_profile("ASJ", entries).verified
    assert resolve_profile("AIM-R100", entries).verified


def test_a_binary_profile_names_its_file(tmp_path: Path) -> None:
    path = write_override(tmp_path, b"\x00\x01\xfe\xff", "blob.yaml")
    with pytest.raises(ProfileError) as caught:
        load_profile_file(path)
    assert (
        str(caught.value) == f"{path}: cannot read: not UTF-8 text (invalid start byte at byte 2)"
    )


def test_every_duplicate_key_is_reported_at_once_with_the_other_problems(tmp_path: Path) -> None:
    text = asj_with("    address: 0x0000\n", "    address: 0x0000\n    address: 0x0010\n")
    text = text.replace("manufacturer: Acrel\n", "manufacturer: Acrel\nmanufacturer: Me\n", 1)
    text = text.replace("kind: residual_current_relay", "kind: toaster", 1)
    path = write_override(tmp_path, text)
    with pytest.raises(ProfileError) as caught:
        load_profile_file(path)
    assert [p.split(":", 1)[0] for p in caught.value.problems] == [
        "manufacturer",
        "channels[0].address",
        "kind",
    ]
    assert (
        caught.value.problems[0] == "manufacturer: duplicate key on line 4 (first given on line 3)"
    )


def test_a_schema_error_shows_the_bad_value(tmp_path: Path) -> None:
    data = minimal()
    data["channels"][0]["kind"] = "leakage"
    data["channels"][0]["address"] = "4AH"
    problems = problems_of(data, tmp_path)
    assert any(
        p.startswith("channels[0].kind: ") and p.endswith("(got 'leakage')") for p in problems
    )
    assert any(
        p.startswith("channels[0].address: ") and p.endswith("(got '4AH')") for p in problems
    )


def mode_profile() -> dict[str, Any]:
    """The minimal profile with a mode setpoint: a register that is an enumeration."""
    data = minimal()
    data["setpoints"].append(
        {
            "key": "protection_mode",
            "address": 4,
            "kind": "mode",
            "translation_key": "protection_mode",
            "options": {0: "off", 1: "alarm", 2: "trip"},
        }
    )
    return data


def test_a_mode_setpoint_lists_its_options_and_takes_its_bounds_from_them(
    tmp_path: Path,
) -> None:
    path = tmp_path / "mode.yaml"
    path.write_text(yaml.safe_dump(mode_profile()), encoding="utf-8")
    mode = load_profile_file(path).setpoint("protection_mode")
    assert mode.options == {0: "off", 1: "alarm", 2: "trip"}
    assert (mode.minimum, mode.maximum, mode.translation_key) == (0, 2, "protection_mode")
    assert list(mode.options.values()) == ["off", "alarm", "trip"], "the manual's order"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda m: m.update(options={0: False, 1: "alarm"}),
            "setpoints[1].options: the option of 0 reads as False: quote it",
        ),
        (
            lambda m: m.update(options={0: "trip", 1: "trip"}),
            "setpoints[1].options: 'trip' is the option of both 0 and 1",
        ),
        (
            lambda m: m.update(options={0: "Off", 1: "trip"}),
            "setpoints[1].options: the option of 0, 'Off', must be lower_snake_case",
        ),
        (
            lambda m: m.update(options={70000: "off", 1: "trip"}),
            "setpoints[1].options: 70000 is not a register value",
        ),
        (
            lambda m: m.update(options={0: "off"}),
            "setpoints[1].options: must list at least two options",
        ),
        (
            lambda m: m.update(options=["off", "trip"]),
            "setpoints[1].options: must be a mapping of register value to option key",
        ),
        (
            lambda m: m.update(min=0),
            "setpoints[1] (protection_mode).min: a setpoint with options takes its values from"
            " them (got 0.0); remove min and max",
        ),
        (
            lambda m: m.update(scale=0.1),
            "setpoints[1] (protection_mode).scale: options are register values, written as they"
            " are (got type u16, scale 0.1)",
        ),
        (
            lambda m: m.pop("options"),
            "setpoints[1] (protection_mode).min: required (or options, for a register that is"
            " an enumeration)",
        ),
        (
            lambda m: m.update(translation_key="Trip Delay"),
            "setpoints[1].translation_key: must be lower_snake_case",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_bad_options_are_named_with_their_file_key_and_value(
    tmp_path: Path, change: Any, expected: str
) -> None:
    data = mode_profile()
    change(data["setpoints"][1])
    problems = problems_of(data, tmp_path)
    assert any(p.startswith(expected) for p in problems), problems


def test_a_template_leaves_the_options_to_the_manual(tmp_path: Path) -> None:
    data = mode_profile()
    data["verified"] = False
    data["setpoints"][1].update(address=None, options=None)
    path = tmp_path / "template.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ProfileIncomplete) as caught:
        load_profile_file(path)
    assert caught.value.missing == [
        "setpoints[1] (protection_mode).address",
        "setpoints[1] (protection_mode).options",
    ]


def test_every_built_in_setpoint_has_a_translation_key() -> None:
    """Each setpoint a built-in profile (or template) ships is named in every language by
    its translation key, never by the profile's English name."""
    for path in [*BUILTIN, *SIMULATED, *TEMPLATES]:
        for entry in read_yaml(path).get("setpoints", []):
            assert entry.get("translation_key"), (path.name, entry["key"])
