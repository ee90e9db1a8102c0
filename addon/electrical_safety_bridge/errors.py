"""One exception hierarchy that says, in the user's terms, what went wrong.

Its root and the errors that cross the wire (a refusal and its reason, a full disk) are the
contract's, in ``common.errors``; the ones here stay in the bridge: a file a person edits,
the line, and a unit's answers.
"""

from __future__ import annotations

from .common.enums import RefusalReason
from .common.errors import BridgeError, CommandRefused, StorageFailing

__all__ = [
    "BridgeError",
    "BusBusy",
    "BusError",
    "CommandRefused",
    "DeviceException",
    "DeviceTimeout",
    "FileProblems",
    "ProfileError",
    "ProfileIncomplete",
    "RefusalReason",
    "StorageFailing",
]


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
