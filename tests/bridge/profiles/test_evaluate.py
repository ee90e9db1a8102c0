"""Conditions over readings: status states, setpoint thresholds and sentinel faults."""

from __future__ import annotations

from electrical_safety_bridge.profiles.codec import Reading
from electrical_safety_bridge.profiles.evaluate import ChannelStatus, evaluate
from electrical_safety_bridge.profiles.loader import find_profile


def test_asj_status_code_maps_to_alarm_warning_and_broken_line() -> None:
    asj = find_profile("ASJ")
    rc = {"residual_current": Reading(120, 120)}
    for state, expected in [
        ("normal", ChannelStatus()),
        ("warning", ChannelStatus(warning=True)),
        ("alarm", ChannelStatus(alarm=True)),
        ("broken_line", ChannelStatus(wiring_fault="broken_line")),
    ]:
        readings = {**rc, "alarm_status": Reading(state, 0)}
        assert evaluate(asj, readings, {})["residual_current"] == expected, state


def test_aim_r100_loop_alarms_at_its_setpoint_and_not_below() -> None:
    aim = find_profile("AIM-R100")
    setpoints = {"loop_3_alarm_setpoint": Reading(300, 300)}
    fault = {"loop_3_fault": Reading("normal", 0)}
    below = evaluate(aim, {"loop_3_residual_current": Reading(299, 299), **fault}, setpoints)
    at = evaluate(aim, {"loop_3_residual_current": Reading(300, 300), **fault}, setpoints)
    assert below["loop_3_residual_current"].alarm is False
    assert at["loop_3_residual_current"].alarm is True
    # Neither its current nor its setpoint read: unknown, not "no alarm".
    assert at["loop_4_residual_current"].alarm is None


def test_aim_r100_overload_is_an_alarm_and_open_loop_a_wiring_fault() -> None:
    aim = find_profile("AIM-R100")
    readings = {
        "loop_1_fault": Reading("overload", 3),
        "loop_2_fault": Reading("open_circuit", 2),
        "loop_3_fault": Reading("short_circuit", 1),
        **{f"loop_{n}_residual_current": Reading(10, 10) for n in (1, 2, 3)},
    }
    setpoints = {f"loop_{n}_alarm_setpoint": Reading(300, 300) for n in (1, 2, 3)}
    status = evaluate(aim, readings, setpoints)
    assert status["loop_1_residual_current"] == ChannelStatus(alarm=True)
    assert status["loop_2_residual_current"] == ChannelStatus(wiring_fault="open_circuit")
    assert status["loop_3_residual_current"] == ChannelStatus(wiring_fault="short_circuit")


def test_an_alarm_against_a_setpoint_never_read_is_unknown_not_clear() -> None:
    aim = find_profile("AIM-R100")
    status = evaluate(aim, {"loop_1_residual_current": Reading(5000, 5000)}, {})
    assert status["loop_1_residual_current"].alarm is None


def test_a_condition_that_holds_decides_even_when_another_cannot() -> None:
    aim = find_profile("AIM-R100")
    readings = {"loop_1_fault": Reading("overload", 3)}  # the current and setpoint unread
    assert evaluate(aim, readings, {})["loop_1_residual_current"].alarm is True


def test_sentinel_in_a_history_register_is_not_a_present_fault() -> None:
    aim = find_profile("AIM-R100")
    readings = {"last_event_value": Reading(None, 0xE5E5, fault="short_circuit")}
    assert "last_event_value" not in evaluate(aim, readings, {})
