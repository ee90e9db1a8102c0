"""The JSON Schema generator: the wire form each model declares, and valid schemas."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from electrical_safety_bridge.api.openapi import OPENAPI, WEBSOCKET_MESSAGES
from electrical_safety_bridge.common import models
from electrical_safety_bridge.common.enums import (
    ChannelKind,
    CommandName,
    ErrorCode,
    MessageType,
    PollClass,
)
from electrical_safety_bridge.common.errors import ErrorBody
from electrical_safety_bridge.common.json_schema import model_schema, type_schema, wire

SCHEMAS: dict[str, Any] = OPENAPI["components"]["schemas"]


def validate(name: str, instance: object) -> None:
    """Validate ``instance`` against the component ``name``, its references resolved."""
    Draft202012Validator(
        {"components": {"schemas": SCHEMAS}, "$ref": f"#/components/schemas/{name}"}
    ).validate(instance)


def test_a_wire_renamed_field_appears_under_its_wire_name() -> None:
    schema = model_schema(models.Setpoint)
    assert "min" in schema["properties"] and "max" in schema["properties"]
    assert "minimum" not in schema["properties"] and "maximum" not in schema["properties"]
    assert {"min", "max"} <= set(schema["required"])
    assert schema["properties"]["min"] == {"type": "number"}


def test_a_flattened_model_writes_its_keys_into_the_parent() -> None:
    schema = model_schema(models.Device)
    properties = schema["properties"]
    assert "state" not in properties
    for key in ("online", "values", "alarms", "open_alarms", "unsupported"):
        assert key in properties and key in schema["required"], key
    # The device's own id, never the state's optional one.
    assert properties["id"] == {"type": "string"} and "id" in schema["required"]
    assert properties["open_alarms"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Alarm"},
    }
    # The state keeps unknown fields, so the device takes them.
    assert schema["additionalProperties"] is True


def test_an_optional_nested_model_is_a_reference_or_null() -> None:
    schema = model_schema(models.BridgeInfo)
    assert schema["properties"]["storage"] == {
        "anyOf": [{"$ref": "#/components/schemas/StorageStatus"}, {"type": "null"}]
    }
    assert schema["properties"]["buses"]["items"] == {"$ref": "#/components/schemas/Bus"}
    assert schema["properties"]["gateway"] == {"type": ["object", "null"]}


def test_an_enum_field_lists_the_known_values() -> None:
    channel = model_schema(models.Channel)["properties"]
    assert channel["kind"] == {"type": "string", "enum": [k.value for k in ChannelKind]}
    assert channel["poll"] == {
        "type": ["string", "null"],
        "enum": [*(p.value for p in PollClass), None],
    }
    commands = model_schema(models.Device)["properties"]["commands"]
    assert commands["items"]["enum"] == [c.value for c in CommandName]
    assert commands["uniqueItems"] is True
    error = model_schema(ErrorBody)
    assert error["properties"]["error"]["enum"] == [c.value for c in ErrorCode]
    assert error["required"] == ["error", "message"]


def test_extra_is_additional_properties_and_never_a_key() -> None:
    for model in models.WIRE_MODELS:
        schema = model_schema(model)
        assert "extra" not in schema["properties"], model
        assert schema["additionalProperties"] is True, model


def test_declared_wire_keys_and_optional_keys() -> None:
    snapshot = model_schema(models.Snapshot)
    assert snapshot["properties"]["type"] == {"const": "snapshot"}
    assert {"type", "schema_version", "min_supported_schema_version"} <= set(snapshot["required"])
    event = model_schema(models.BridgeEvent)
    assert event["properties"]["stored"] == {"const": False}
    assert "stored" not in event["required"] and "seq" in event["required"]
    state = model_schema(models.DeviceState)
    assert "id" in state["properties"] and "id" not in state["required"]
    channel = model_schema(models.Channel)
    assert channel["properties"]["states"] == {
        "type": ["array", "null"],
        "items": {"type": "string"},
    }


def test_a_special_wire_shape_is_taken_as_declared() -> None:
    buses = model_schema(models.BridgeStatus)["properties"]["buses"]
    validate("BridgeStatus", {"status": "ok", "problems": [], "storage": None, "buses": {}})
    schedule = models.BusSchedule(1.0, 1.0, 0.1, 0.2, False, 1.5, 0, None)
    status = models.BridgeStatus("ok", (), None, {"line": (True, schedule)})
    validate("BridgeStatus", status.to_dict())
    broken = {**status.to_dict(), "buses": {"line": schedule.to_dict()}}  # no "up"
    with pytest.raises(ValidationError):
        validate("BridgeStatus", broken)
    assert buses["type"] == "object"


def test_type_hints() -> None:
    assert type_schema(models.Value) == {"type": ["number", "string", "boolean", "null"]}
    assert type_schema(tuple[int, ...]) == {"type": "array", "items": {"type": "integer"}}
    assert type_schema(frozenset[str]) == {
        "type": "array",
        "items": {"type": "string"},
        "uniqueItems": True,
    }
    assert type_schema(Mapping[str, Any]) == {"type": "object"}
    assert type_schema(Mapping[str, bool | None]) == {
        "type": "object",
        "additionalProperties": {"type": ["boolean", "null"]},
    }
    assert type_schema(Any) == {}
    assert type_schema(float | None) == {"type": ["number", "null"]}
    assert type_schema(models.Alarm | None) == {
        "anyOf": [{"$ref": "#/components/schemas/Alarm"}, {"type": "null"}]
    }
    with pytest.raises(TypeError):
        type_schema(Mapping[int, str])
    with pytest.raises(TypeError):
        type_schema(complex)


def test_a_model_of_its_own_declares_its_wire_form() -> None:
    @dataclass(frozen=True)
    class Probe:
        _WIRE_NAMES = {"low": "lo"}  # noqa: RUF012
        low: float
        kind: str = field(metadata=wire(enum=PollClass, description="a poll class"))
        note: str | None = field(default=None, metadata=wire(schema={"const": "x"}))
        extra: Mapping[str, Any] = field(default_factory=dict, metadata=wire(additional=True))

    schema = model_schema(Probe)
    assert schema["properties"] == {
        "lo": {"type": "number"},
        "kind": {
            "description": "a poll class",
            "type": "string",
            "enum": ["alarm", "telemetry", "slow"],
        },
        "note": {"const": "x"},
    }
    assert schema["required"] == ["lo", "kind", "note"]
    assert schema["additionalProperties"] is True


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_every_component_schema_is_a_valid_json_schema(name: str) -> None:
    Draft202012Validator.check_schema(SCHEMAS[name])


def test_every_model_and_message_is_a_component() -> None:
    for model in models.WIRE_MODELS:
        assert model.__name__ in SCHEMAS
    assert "Error" in SCHEMAS
    assert set(WEBSOCKET_MESSAGES) == {m.value for m in MessageType}
    for message in WEBSOCKET_MESSAGES.values():
        assert message["schema"]["$ref"].removeprefix("#/components/schemas/") in SCHEMAS


def test_every_reference_resolves() -> None:
    def refs(value: object) -> list[str]:
        if isinstance(value, dict):
            found = [value["$ref"]] if "$ref" in value else []
            return found + [r for v in value.values() for r in refs(v)]
        if isinstance(value, list):
            return [r for v in value for r in refs(v)]
        return []

    for target in refs(OPENAPI):
        assert target.removeprefix("#/components/schemas/") in SCHEMAS, target


def test_model_round_trips_validate() -> None:
    """What the models write validates, unknown fields included."""
    alarm = models.Alarm(
        "a1",
        "alarm",
        "asj",
        "residual_current",
        1.0,
        333,
        None,
        True,
        False,
        None,
        None,
        extra={"newer": 1},
    )
    validate("Alarm", alarm.to_dict())
    setpoint = models.Setpoint("s", "S", "delay", "s", 0.0, 10.0, 0.5, True)
    validate("Setpoint", setpoint.to_dict())
    with pytest.raises(ValidationError):
        validate("Setpoint", {**setpoint.to_dict(), "kind": "not_a_kind"})
    result = models.CommandResult("arcm", "trip", "confirmed", None, "breaker is open", "open")
    validate("CommandResult", result.to_dict())
    assert models.CommandResult.from_dict(result.to_dict()) == result
    held = models.BridgeEvent(None, "e1", "bus_up", 1.0, None, None, {})
    validate("BridgeEvent", held.to_dict())
    validate("Error", ErrorBody("bad_request", "no", parameter="limit", value="0").to_dict())
    body = ErrorBody("client_too_old", "update", schema_version=1, min_supported_schema_version=1)
    assert ErrorBody.from_dict(body.to_dict()) == body
