"""Command policy: the close interlock, unverified profiles and setpoint bounds."""

from __future__ import annotations

import pytest

from electrical_safety_bridge.common.enums import AlarmKind, CommandName
from electrical_safety_bridge.errors import CommandRefused, RefusalReason
from electrical_safety_bridge.profiles.loader import load_profile_text
from electrical_safety_bridge.profiles.model import Profile
from electrical_safety_bridge.safety.alarms import AlarmBook
from electrical_safety_bridge.safety.commands import authorise_command, authorise_setpoint

BREAKER_PROFILE = """
manufacturer: Test
model: {model}
kind: circuit_protector
manual_version: "1"
verified: {verified}
source: test fixture
channels:
  - key: residual_current
    address: 0
    unit: mA
    kind: residual_current
    alarm: {{source: alarm_flag}}
  - key: alarm_flag
    address: 1
    type: bitfield
    bit: 0
    kind: alarm_status
  - key: breaker
    address: 2
    type: bitfield
    bit: 0
    states: {{0: open, 1: closed}}
    kind: breaker
setpoints:
  - key: residual_current_alarm_setpoint
    address: 3
    unit: mA
    min: 20
    max: 1000
    kind: residual_current_alarm
commands:
  trip: {{address: 4, value: 1, verify: {{channel: breaker, state: open}}}}
  close: {{address: 5, value: 1, verify: {{channel: breaker, state: closed}}}}
"""


def breaker_profile(verified: bool = True) -> Profile:
    text = BREAKER_PROFILE.format(model="BRK", verified=str(verified).lower())
    return load_profile_text(text, "test")


def test_close_is_refused_while_alarm_active() -> None:
    book = AlarmBook()
    book.observe(AlarmKind.ALARM, "d1", "residual_current", True, 400, now=1.0)
    (alarm,) = book.open_alarms()
    book.acknowledge(alarm.id, "owner", now=2.0)  # acknowledged, but still active
    with pytest.raises(CommandRefused) as refused:
        authorise_command(breaker_profile(), "d1", "close", book.open_alarms("d1"))
    assert refused.value.reason is RefusalReason.ALARM_ACTIVE
    assert "residual_current" in str(refused.value)


def test_close_is_refused_while_alarm_unacknowledged() -> None:
    book = AlarmBook()
    book.observe(AlarmKind.ALARM, "d1", "residual_current", True, 400, now=1.0)
    book.observe(AlarmKind.ALARM, "d1", "residual_current", False, 10, now=2.0)
    with pytest.raises(CommandRefused) as refused:
        authorise_command(breaker_profile(), "d1", "close", book.open_alarms("d1"))
    assert refused.value.reason is RefusalReason.ALARM_UNACKNOWLEDGED


def test_close_is_allowed_once_alarm_is_gone_and_acknowledged() -> None:
    book = AlarmBook()
    book.observe(AlarmKind.ALARM, "d1", "residual_current", True, 400, now=1.0)
    book.observe(AlarmKind.ALARM, "d1", "residual_current", False, 10, now=2.0)
    book.acknowledge(book.open_alarms()[0].id, "owner", now=3.0)
    command = authorise_command(breaker_profile(), "d1", "close", book.open_alarms("d1"))
    assert command.name is CommandName.CLOSE


def test_wiring_fault_or_another_devices_alarm_does_not_block_close() -> None:
    book = AlarmBook()
    book.observe(AlarmKind.WIRING_FAULT, "d1", "residual_current", True, None, now=1.0)
    book.observe(AlarmKind.ALARM, "d2", "residual_current", True, 400, now=1.0)
    authorise_command(breaker_profile(), "d1", "close", book.open_alarms())


def test_trip_is_allowed_during_an_alarm() -> None:
    book = AlarmBook()
    book.observe(AlarmKind.ALARM, "d1", "residual_current", True, 400, now=1.0)
    assert authorise_command(breaker_profile(), "d1", "trip", book.open_alarms()).address == 4


def test_unverified_profile_never_writes() -> None:
    profile = breaker_profile(verified=False)
    with pytest.raises(CommandRefused) as refused:
        authorise_command(profile, "d1", "trip", [])
    assert refused.value.reason is RefusalReason.PROFILE_UNVERIFIED
    with pytest.raises(CommandRefused) as refused:
        authorise_setpoint(profile, "residual_current_alarm_setpoint", 300)
    assert refused.value.reason is RefusalReason.PROFILE_UNVERIFIED


def test_unknown_command_names_what_is_offered() -> None:
    with pytest.raises(CommandRefused) as refused:
        authorise_command(breaker_profile(), "d1", "self_test", [])
    assert refused.value.reason is RefusalReason.COMMAND_UNSUPPORTED
    assert "close, trip" in str(refused.value)


@pytest.mark.parametrize("value", [19, 1001, -5])
def test_setpoint_outside_device_range_is_refused(value: float) -> None:
    with pytest.raises(CommandRefused) as refused:
        authorise_setpoint(breaker_profile(), "residual_current_alarm_setpoint", value)
    assert refused.value.reason is RefusalReason.VALUE_OUT_OF_RANGE
    assert "between 20 and 1000 mA" in str(refused.value)


def test_setpoint_inside_range_is_allowed() -> None:
    setpoint = authorise_setpoint(breaker_profile(), "residual_current_alarm_setpoint", 300)
    assert setpoint.register.address == 3


def test_another_masters_write_to_an_unverified_profile_is_refused() -> None:
    from electrical_safety_bridge.safety.commands import authorise_forwarded_write

    with pytest.raises(CommandRefused) as refused:
        authorise_forwarded_write(breaker_profile(verified=False), "d1", 6, 3, 1, [])
    assert refused.value.reason is RefusalReason.PROFILE_UNVERIFIED


def test_another_masters_write_covering_the_close_register_is_a_close() -> None:
    from electrical_safety_bridge.safety.commands import authorise_forwarded_write

    book = AlarmBook()
    book.observe(AlarmKind.ALARM, "d1", "residual_current", True, 400, now=1.0)
    alarms = book.open_alarms("d1")
    # Registers 3..5 include the close command at 5: refused while the alarm is open.
    with pytest.raises(CommandRefused) as refused:
        authorise_forwarded_write(breaker_profile(), "d1", 16, 3, 3, alarms)
    assert refused.value.reason is RefusalReason.ALARM_ACTIVE
    # The setpoint alone (3) and the trip (4) are not a close; coils are not registers.
    authorise_forwarded_write(breaker_profile(), "d1", 16, 3, 2, alarms)
    authorise_forwarded_write(breaker_profile(), "d1", 5, 5, 1, alarms)


def test_a_mode_is_written_only_with_a_value_its_options_list() -> None:
    text = BREAKER_PROFILE.format(model="BRK", verified="true").replace(
        "commands:\n",
        "  - key: protection_mode\n"
        "    address: 6\n"
        "    kind: mode\n"
        '    options: {0: "off", 1: alarm, 2: trip}\n'
        "commands:\n",
    )
    profile = load_profile_text(text, "test")
    assert authorise_setpoint(profile, "protection_mode", 2).key == "protection_mode"
    with pytest.raises(CommandRefused) as caught:
        authorise_setpoint(profile, "protection_mode", 1.5)
    assert caught.value.reason is RefusalReason.VALUE_OUT_OF_RANGE
    assert "0 (off), 1 (alarm), 2 (trip), not 1.5" in str(caught.value)
