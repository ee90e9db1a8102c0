"""Command policy: what may be written, decided before anything touches the wire. Pure.

The close interlock lives here. Re-energising a circuit while an alarm is active, or
before a person has acknowledged it, could feed a fault that is still burning; so a close
is refused with a machine-readable reason until every alarm of the device is both gone and
acknowledged. The bridge itself never decides to trip (GB 50116 §9.1.6): a trip only ever
comes from a person or a rule a person wrote.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..common import models as wire
from ..common.enums import AlarmKind, CommandName, CommandOutcome
from ..common.workflow import Lockout
from ..errors import CommandRefused, RefusalReason
from ..profiles.model import Command, Profile, Setpoint
from .alarms import Alarm


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What happened to a command, for the caller and the event log."""

    device_id: str
    command: str
    outcome: CommandOutcome
    reason: str | None = None
    message: str = ""
    state: Any = None
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The wire form (``common.models.CommandResult``)."""
        return self.to_wire().to_dict()

    def to_wire(self) -> wire.CommandResult:
        """The wire model of this result."""
        return wire.CommandResult(
            device_id=self.device_id,
            command=self.command,
            outcome=self.outcome,
            reason=self.reason,
            message=self.message,
            state=self.state,
            extra=self.details,
        )


def check_close_interlock(device_id: str, open_alarms: Iterable[Alarm]) -> None:
    """Refuse a close while any alarm of the device is active or unacknowledged."""
    alarms = [a for a in open_alarms if a.kind is AlarmKind.ALARM and a.device_id == device_id]
    active = [a.channel for a in alarms if a.active]
    if active:
        raise CommandRefused(
            RefusalReason.ALARM_ACTIVE,
            f"close refused: alarm still active on {', '.join(sorted(set(active)))}",
        )
    unacknowledged = [a.channel for a in alarms if not a.acknowledged]
    if unacknowledged:
        raise CommandRefused(
            RefusalReason.ALARM_UNACKNOWLEDGED,
            "close refused: acknowledge the alarm on "
            f"{', '.join(sorted(set(unacknowledged)))} first",
        )


def check_lockout(device_id: str, lockout: Lockout | None) -> None:
    """Refuse a close while the device is locked out for maintenance."""
    if lockout is None:
        return
    until = "" if lockout.until is None else f", until {_when(lockout.until)}"
    raise CommandRefused(
        RefusalReason.LOCKED_OUT,
        f"close refused: {device_id} is locked out for maintenance by {lockout.who}"
        f" ({lockout.why}){until}",
    )


def _when(at: float) -> str:
    return datetime.fromtimestamp(at).astimezone().isoformat(timespec="seconds")


def authorise_command(
    profile: Profile,
    device_id: str,
    name: str,
    open_alarms: Iterable[Alarm],
    lockout: Lockout | None = None,
) -> Command:
    """The command to write, or CommandRefused saying why not. ``lockout`` is the
    device's maintenance lock-out, if any: a close is then refused (``locked_out``)."""
    try:
        command_name = CommandName(name)
    except ValueError:
        command_name = None
    command = profile.commands.get(command_name) if command_name else None
    if command is None:
        offered = ", ".join(sorted(profile.commands)) or "none"
        raise CommandRefused(
            RefusalReason.COMMAND_UNSUPPORTED,
            f"{profile.model} has no '{name}' command (offers: {offered})",
        )
    if not profile.can_write:
        raise CommandRefused(
            RefusalReason.PROFILE_UNVERIFIED,
            f"the {profile.model} profile is not verified, so the bridge never writes to it",
        )
    if command.name is CommandName.CLOSE:
        check_lockout(device_id, lockout)
        check_close_interlock(device_id, open_alarms)
    return command


#: Modbus functions that write: coils (05, 15), registers (06, 16), mask (22), read/write (23).
WRITE_FUNCTIONS = frozenset({5, 6, 15, 16, 22, 23})


def authorise_forwarded_write(
    profile: Profile,
    device_id: str,
    function: int,
    address: int,
    count: int,
    open_alarms: Iterable[Alarm],
    lockout: Lockout | None = None,
) -> None:
    """Another master's write to a unit the bridge knows: the bridge's own rules apply.

    An unverified profile means nobody has confirmed what its registers do, so nothing is
    written to it, whoever asks. A write that reaches the close register is a close, and
    the interlock and the maintenance lock-out apply to it as to the bridge's own.
    """
    if not profile.can_write:
        raise CommandRefused(
            RefusalReason.PROFILE_UNVERIFIED,
            f"the {profile.model} profile is not verified, so the bridge never writes to it",
        )
    close = profile.commands.get(CommandName.CLOSE)
    register_write = function in (6, 16, 22, 23)
    if (
        close is not None
        and close.address is not None
        and register_write
        and address <= close.address < address + count
    ):
        check_lockout(device_id, lockout)
        check_close_interlock(device_id, open_alarms)


def authorise_setpoint(profile: Profile, key: str, value: float) -> Setpoint:
    """The setpoint to write, or CommandRefused saying why not."""
    try:
        setpoint = profile.setpoint(key)
    except KeyError:
        raise CommandRefused(
            RefusalReason.COMMAND_UNSUPPORTED, f"{profile.model} has no setpoint '{key}'"
        ) from None
    if not profile.can_write:
        raise CommandRefused(
            RefusalReason.PROFILE_UNVERIFIED,
            f"the {profile.model} profile is not verified, so the bridge never writes to it",
        )
    if not setpoint.writable:
        raise CommandRefused(RefusalReason.COMMAND_UNSUPPORTED, f"'{key}' is read-only")
    if setpoint.options and value not in setpoint.options:
        # Only a value the manual documents is ever written to an enumeration.
        listed = ", ".join(f"{code} ({option})" for code, option in setpoint.options.items())
        raise CommandRefused(
            RefusalReason.VALUE_OUT_OF_RANGE,
            f"{key} must be one of {listed}, not {value:g}",
        )
    if not setpoint.minimum <= value <= setpoint.maximum:
        raise CommandRefused(
            RefusalReason.VALUE_OUT_OF_RANGE,
            f"{key} must be between {setpoint.minimum:g} and {setpoint.maximum:g}"
            f"{' ' + setpoint.unit if setpoint.unit else ''}, not {value:g}",
        )
    return setpoint
