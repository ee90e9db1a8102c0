"""Errors of the contract: each carries a stable ``error_code`` and a ``translation_key``.

The bridge raises them and answers with ``to_dict()`` and ``http_status``; the client reads
the answer back with ``error_from_answer`` and raises the same class, so that a refusal
raised in the bridge arrives in Home Assistant as the same error, translated there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .enums import ErrorCode, RefusalReason
from .json_schema import wire


class BridgeError(Exception):
    """Base class of every error the bridge or its client raises on purpose."""

    error_code: ClassVar[str] = ErrorCode.INTERNAL_ERROR
    http_status: ClassVar[int] = 500
    translation_key: ClassVar[str] = "unexpected_error"

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of an error answer."""
        return {"error": str(self.error_code), "message": str(self)}


class BridgeConnectionError(BridgeError):
    """The bridge could not be reached, or the connection broke."""

    translation_key = "communication_error"


class BridgeAuthenticationError(BridgeError):
    """The bridge did not accept the token (HTTP 401)."""

    error_code = ErrorCode.UNAUTHORIZED
    http_status = 401
    translation_key = "auth_failed"


class BridgeResponseError(BridgeError):
    """The other side answered something that cannot be used."""


class BadRequest(BridgeError):
    """A request the bridge cannot take; ``where`` names the parameter or key."""

    error_code = ErrorCode.BAD_REQUEST
    http_status = 400

    def __init__(self, message: str, **where: Any) -> None:
        self.where = {k: v for k, v in where.items() if v is not None}
        super().__init__(message)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), **self.where}


class BusUnavailable(BridgeError):
    """The line is unusable: the port is gone or the gateway unreachable."""

    error_code = ErrorCode.BUS_UNAVAILABLE
    http_status = 503
    translation_key = "communication_error"


class CommandRefused(BridgeError):
    """The bridge refused a request before anything was done; ``reason`` says why."""

    error_code = ErrorCode.REFUSED
    http_status = 409

    def __init__(self, reason: RefusalReason | str, message: str) -> None:
        self.reason = reason
        super().__init__(message)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "reason": str(self.reason)}


class UnknownDevice(CommandRefused):
    """No device has this id."""

    error_code = ErrorCode.UNKNOWN_DEVICE
    http_status = 404

    def __init__(self, device_id: str, message: str | None = None) -> None:
        self.device_id = device_id
        super().__init__(RefusalReason.UNKNOWN_DEVICE, message or f"no device '{device_id}'")


class UnknownAlarm(CommandRefused):
    """No open alarm or wiring fault has this id."""

    error_code = ErrorCode.UNKNOWN_ALARM
    http_status = 404

    def __init__(self, alarm_id: str, message: str | None = None) -> None:
        self.alarm_id = alarm_id
        super().__init__(ErrorCode.UNKNOWN_ALARM.value, message or f"no open alarm '{alarm_id}'")


class UnknownHazard(CommandRefused):
    """No hazard has this id."""

    error_code = ErrorCode.UNKNOWN_HAZARD
    http_status = 404

    def __init__(self, hazard_id: str, message: str | None = None) -> None:
        self.hazard_id = hazard_id
        super().__init__(ErrorCode.UNKNOWN_HAZARD.value, message or f"no hazard '{hazard_id}'")


class StorageFailing(CommandRefused):
    """The event store cannot record this now (a full disk), so it is not done."""

    def __init__(self, message: str) -> None:
        super().__init__(RefusalReason.STORAGE_FAILING, message)


class SchemaMismatch(BridgeError):
    """The bridge and this client speak contracts that do not overlap.

    ``problem`` is ``bridge_too_old`` (update the add-on) or ``bridge_too_new`` (update
    the integration); see ``schema.schema_problem``.
    """

    def __init__(self, problem: str, server_schema: int | None, server_min: int | None) -> None:
        self.problem = problem
        self.server_schema = server_schema
        self.server_min_supported = server_min
        super().__init__(
            f"{problem.replace('_', ' ')}: the bridge speaks schema {server_schema}"
            f" (serves clients from {server_min})"
        )

    @property
    def translation_key(self) -> str:  # type: ignore[override]
        return self.problem


def error_from_answer(status: int, body: object) -> BridgeError:
    """The error an error answer (HTTP ``status``, JSON ``body``) stands for."""
    if status == 401:
        return BridgeAuthenticationError("the bridge did not accept the token")
    raw: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
    code = raw.get("error")
    message = str(raw.get("message") or code or f"HTTP {status}")
    reason = raw.get("reason")
    if code == ErrorCode.UNKNOWN_DEVICE:
        return UnknownDevice(str(raw.get("device_id") or ""), message)
    if code == ErrorCode.UNKNOWN_ALARM:
        return UnknownAlarm(str(raw.get("alarm_id") or ""), message)
    if code == ErrorCode.UNKNOWN_HAZARD:
        return UnknownHazard(str(raw.get("hazard_id") or ""), message)
    if code == ErrorCode.STORAGE_FAILING or reason == RefusalReason.STORAGE_FAILING:
        return StorageFailing(message)
    if code == ErrorCode.REFUSED:
        return CommandRefused(_reason(reason), message)
    if code == ErrorCode.BUS_UNAVAILABLE:
        return BusUnavailable(message)
    if code == ErrorCode.CLIENT_TOO_OLD:
        # This client is older than the bridge serves: for its user, the bridge is too new.
        return SchemaMismatch(
            "bridge_too_new",
            _int_or_none(raw.get("schema_version")),
            _int_or_none(raw.get("min_supported_schema_version")),
        )
    if code == ErrorCode.BAD_REQUEST:
        return BadRequest(message, **{k: v for k, v in raw.items() if k not in _BODY_KEYS})
    return BridgeResponseError(f"HTTP {status}: {message}")


_BODY_KEYS = frozenset({"error", "message"})


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _reason(reason: object) -> RefusalReason | str:
    """A refusal reason as the enum, or as the plain string a newer bridge sent."""
    text = str(reason or ErrorCode.REFUSED.value)
    try:
        return RefusalReason(text)
    except ValueError:
        return text


@dataclass(frozen=True, slots=True)
class ErrorBody:
    """The JSON body of an error answer: ``error`` (an ``ErrorCode``) and ``message``, and
    what the error adds: a refusal's ``reason``, the ``parameter`` and ``value`` of bad
    input, the bridge's schema versions when the client is too old. Only ``error`` and
    ``message`` are always there; a refused command's answer carries the command result's
    fields too."""

    _KNOWN: ClassVar[frozenset[str]] = frozenset(
        {
            "error",
            "message",
            "reason",
            "parameter",
            "value",
            "schema_version",
            "min_supported_schema_version",
        }
    )
    #: Written only when not None.
    _WIRE_OPTIONAL: ClassVar[frozenset[str]] = _KNOWN - {"error", "message"}

    #: An ``ErrorCode``, or the plain string of one this version does not know.
    error: str = field(metadata=wire(enum=ErrorCode))
    message: str
    reason: str | None = field(
        default=None,
        metadata=wire(description="why it was refused: a RefusalReason (or unknown_alarm)"),
    )
    parameter: str | None = field(
        default=None,
        metadata=wire(
            description="the query parameter, body key (a.b[0]) or header that was wrong"
        ),
    )
    value: str | None = field(
        default=None, metadata=wire(description="the value refused, shortened if long")
    )
    schema_version: int | None = field(
        default=None, metadata=wire(description="client_too_old: the schema the bridge speaks")
    )
    min_supported_schema_version: int | None = field(
        default=None,
        metadata=wire(description="client_too_old: the oldest client schema the bridge serves"),
    )
    extra: Mapping[str, Any] = field(
        default_factory=dict, compare=False, metadata=wire(additional=True)
    )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ErrorBody:
        """Parse an error answer's body (lenient: what is missing is None)."""

        def text(key: str) -> str | None:
            value = raw.get(key)
            return value if isinstance(value, str) else None

        return cls(
            error=text("error") or ErrorCode.INTERNAL_ERROR.value,
            message=text("message") or "",
            reason=text("reason"),
            parameter=text("parameter"),
            value=text("value"),
            schema_version=_int_or_none(raw.get("schema_version")),
            min_supported_schema_version=_int_or_none(raw.get("min_supported_schema_version")),
            extra={k: v for k, v in raw.items() if k not in cls._KNOWN},
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form: the optional keys only when set."""
        optional = {
            "reason": self.reason,
            "parameter": self.parameter,
            "value": self.value,
            "schema_version": self.schema_version,
            "min_supported_schema_version": self.min_supported_schema_version,
        }
        return {
            "error": str(self.error),
            "message": self.message,
            **{k: v for k, v in optional.items() if v is not None},
            **self.extra,
        }
