"""An error raised in the bridge arrives in a client as the same class (common/errors.py)."""

from __future__ import annotations

import pytest

from electrical_safety_bridge.common.enums import ErrorCode, RefusalReason
from electrical_safety_bridge.common.errors import (
    BadRequest,
    BridgeAuthenticationError,
    BridgeError,
    BridgeResponseError,
    BusUnavailable,
    CommandRefused,
    SchemaMismatch,
    StorageFailing,
    UnknownAlarm,
    UnknownDevice,
    error_from_answer,
)


@pytest.mark.parametrize(
    "raised",
    [
        CommandRefused(RefusalReason.ALARM_ACTIVE, "close refused: alarm still active on t1"),
        CommandRefused(RefusalReason.PROFILE_UNVERIFIED, "the profile is not verified"),
        UnknownDevice("kitchen"),
        UnknownAlarm("a-7"),
        StorageFailing("the event store cannot record it"),
        BusUnavailable("the port is gone"),
        BadRequest("'value' must be a finite number", parameter="value"),
    ],
)
def test_the_answer_of_an_error_is_read_back_as_the_same_error(raised: BridgeError) -> None:
    back = error_from_answer(raised.http_status, raised.to_dict())
    assert type(back) is type(raised)
    assert str(back) == str(raised)
    assert back.to_dict() == raised.to_dict()
    assert back.translation_key == raised.translation_key
    if isinstance(raised, CommandRefused):
        assert isinstance(back, CommandRefused)
        assert back.reason == raised.reason


def test_a_refusal_keeps_its_reason_and_is_translated_by_it() -> None:
    back = error_from_answer(409, {"error": "refused", "reason": "alarm_active", "message": "m"})
    assert isinstance(back, CommandRefused)
    assert back.reason is RefusalReason.ALARM_ACTIVE


def test_a_reason_this_version_does_not_know_stays_a_string() -> None:
    back = error_from_answer(409, {"error": "refused", "reason": "on_fire", "message": "m"})
    assert isinstance(back, CommandRefused)
    assert back.reason == "on_fire"
    assert not isinstance(back.reason, RefusalReason)


def test_an_older_bridge_s_storage_answer_is_a_storage_refusal() -> None:
    # Bridges before the contract answered an acknowledgement on a full disk with 503.
    back = error_from_answer(503, {"error": "storage_failing", "message": "disk full"})
    assert isinstance(back, StorageFailing)
    assert back.reason is RefusalReason.STORAGE_FAILING


def test_a_client_too_old_for_the_bridge_is_told_the_bridge_is_too_new() -> None:
    back = error_from_answer(
        400,
        {
            "error": ErrorCode.CLIENT_TOO_OLD,
            "message": "update the integration",
            "schema_version": 4,
            "min_supported_schema_version": 3,
        },
    )
    assert isinstance(back, SchemaMismatch)
    assert (back.problem, back.server_schema, back.server_min_supported) == ("bridge_too_new", 4, 3)
    assert back.translation_key == "bridge_too_new"


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, None, BridgeAuthenticationError),
        (500, {"error": "internal_error", "message": "see its log"}, BridgeResponseError),
        (418, "not an object", BridgeResponseError),
        (404, {"error": "not_found", "message": "Not Found"}, BridgeResponseError),
    ],
)
def test_other_answers(status: int, body: object, expected: type[BridgeError]) -> None:
    error = error_from_answer(status, body)
    assert type(error) is expected
    assert str(status) in str(error) or status == 401
