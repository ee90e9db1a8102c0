"""One exception hierarchy that says, in the user's terms, what went wrong."""

from __future__ import annotations

from enum import StrEnum


class BridgeError(Exception):
    """Base class of every error the bridge raises on purpose."""


class FileProblems(BridgeError):
    """A file a person edits is wrong; ``problems`` has one ``key path: reason`` line each,
    so that every one of them can be fixed in one pass."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


class ProfileError(FileProblems):
    """A profile file is malformed or incomplete."""


class ProfileIncomplete(ProfileError):
    """A template profile: valid, but register addresses must come from the manual."""

    def __init__(self, source: str, missing: list[str]) -> None:
        self.missing = missing
        super().__init__(
            source,
            [f"{path}: fill in from the device manual" for path in missing],
        )


class BusError(BridgeError):
    """The bus itself is unusable: the port is gone or the gateway unreachable."""


class BusBusy(BusError):
    """Too many requests are already waiting for the line."""


class DeviceTimeout(BridgeError):
    """A unit did not answer within the time its frame needs on the wire."""


class DeviceException(BridgeError):
    """A unit answered with a Modbus exception response."""

    def __init__(self, unit: int, function_code: int, exception_code: int) -> None:
        self.unit = unit
        self.function_code = function_code
        self.exception_code = exception_code
        super().__init__(
            f"unit {unit} answered function {function_code:#04x}"
            f" with exception {exception_code:#04x}"
        )


class RefusalReason(StrEnum):
    """Machine-readable reasons for refusing a command."""

    ALARM_ACTIVE = "alarm_active"
    ALARM_UNACKNOWLEDGED = "alarm_unacknowledged"
    PROFILE_UNVERIFIED = "profile_unverified"
    COMMAND_UNSUPPORTED = "command_unsupported"
    VALUE_OUT_OF_RANGE = "value_out_of_range"
    DEVICE_OFFLINE = "device_offline"
    UNKNOWN_DEVICE = "unknown_device"
    # The event store cannot record the command right now (a full disk): a command is
    # never executed unrecorded.
    STORAGE_FAILING = "storage_failing"


class CommandRefused(BridgeError):
    """The bridge refused a command before anything was written."""

    def __init__(self, reason: RefusalReason, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class StorageFailing(BridgeError):
    """The event store cannot record this now (a full disk), so it is not done."""
