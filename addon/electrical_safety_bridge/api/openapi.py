"""The OpenAPI 3.1 document of API v1 (tests and fuzzing are driven by it).

Its response schemas are generated from the wire models in ``common/`` (see
``common.json_schema``): ``components.schemas`` holds every model under its class name,
the error body as ``Error``, the answers that wrap models (lists, pages), and the
WebSocket messages, which ``x-websocket-messages`` lists by ``MessageType``.
"""

from __future__ import annotations

import copy
from typing import Any

from ..common.enums import CommandName, HazardState, MessageType
from ..common.errors import ErrorBody
from ..common.json_schema import DIALECT, component_schemas, model_schema, ref
from ..common.models import WIRE_MODELS
from ..report.catalogue import LANGUAGES
from ..report.model import ReportFormat
from .proof_openapi import PROOF_PATHS, PROOF_SCHEMAS


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "400": _json(
        {"$ref": "#/components/schemas/Error"},
        "bad input: a value out of range or of the wrong kind (named in 'parameter')",
    ),
    "401": _json({"$ref": "#/components/schemas/Error"}, "missing or wrong token"),
    "404": _json({"$ref": "#/components/schemas/Error"}, "no such device or alarm"),
}
# What every JSON body is held to, besides its own schema.
_BODY_RULES = (
    "UTF-8 JSON sent as application/json (a charset, if given, must be utf-8); at most"
    " 64 KiB; arrays and objects nested at most 32 deep; integers from -2^63 to 2^63-1;"
    " no NaN or Infinity."
)
_BODY_ERRORS = {
    "400": _json(
        {"$ref": "#/components/schemas/Error"},
        "bad input: not UTF-8, not a JSON object, nested too deep, a number out of range"
        " (its key named in 'parameter'), or a field of the wrong kind",
    ),
    "413": _json({"$ref": "#/components/schemas/Error"}, "the body is larger than 64 KiB"),
    "415": _json(
        {"$ref": "#/components/schemas/Error"},
        "the body is not application/json, or its charset is not utf-8",
    ),
}
_INT64_MAX = 2**63 - 1
_DEVICE_ID = {"name": "device_id", "in": "path", "required": True, "schema": {"type": "string"}}
_ALARM_ID = {"name": "alarm_id", "in": "path", "required": True, "schema": {"type": "string"}}
_HAZARD_ID = {"name": "hazard_id", "in": "path", "required": True, "schema": {"type": "string"}}
_WHO = {"type": "string", "minLength": 1, "maxLength": 200}


def _body_of(required: bool, **properties: dict[str, Any]) -> dict[str, Any]:
    """A JSON request body with these properties."""
    return {
        "required": required,
        "description": _BODY_RULES,
        "content": {"application/json": {"schema": {"type": "object", "properties": properties}}},
    }


def _error(description: str) -> dict[str, Any]:
    return _json({"$ref": "#/components/schemas/Error"}, description)


_EVENT_FILTERS = [
    {"name": "device_id", "in": "query", "schema": {"type": "string"}},
    {"name": "type", "in": "query", "schema": {"type": "string"}},
    {
        "name": "since",
        "in": "query",
        "description": "seconds since the epoch, a finite decimal number (events at or after)",
        "schema": {"type": "number"},
    },
    {
        "name": "until",
        "in": "query",
        "description": "seconds since the epoch, a finite decimal number (events before)",
        "schema": {"type": "number"},
    },
    {
        "name": "after",
        "in": "query",
        "description": "decimal digits: events with a higher seq (the last page's next_after)",
        "schema": {"type": "integer", "minimum": 0, "maximum": _INT64_MAX},
    },
]


def _object(properties: dict[str, Any], description: str) -> dict[str, Any]:
    """An object with these keys, all required, taking more (a newer bridge may add)."""
    return {
        "description": description,
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": True,
    }


def _array(name: str) -> dict[str, Any]:
    return {"type": "array", "items": ref(name)}


def _message(kind: MessageType, description: str, **body: dict[str, Any]) -> dict[str, Any]:
    return _object({"type": {"const": kind.value}, **body}, description)


def _acknowledged_event(event: dict[str, Any]) -> dict[str, Any]:
    """An event of an acknowledgement's answer. The answer carries the events as emitted,
    before the store gave them their ``seq`` and ``id``: those keys are absent there (the
    stored copies, with both, are in ``GET /events`` and the ``event`` messages)."""
    schema = copy.deepcopy(event)
    schema["description"] = " ".join((_acknowledged_event.__doc__ or "").split())
    schema["required"] = [k for k in schema["required"] if k not in ("seq", "id")]
    return schema


def _schemas() -> dict[str, Any]:
    """``components.schemas``: the wire models, the error body, and what wraps them."""
    schemas: dict[str, Any] = component_schemas(WIRE_MODELS)
    schemas["Error"] = model_schema(ErrorBody)
    schemas["Health"] = {
        "description": "GET /health: the bridge's status (as in a status message) and version",
        "allOf": [
            ref("BridgeStatus"),
            {
                "type": "object",
                "properties": {"version": {"type": "string"}},
                "required": ["version"],
            },
        ],
    }
    schemas["DeviceList"] = _object({"devices": _array("Device")}, "GET /devices")
    schemas["AlarmList"] = _object(
        {"alarms": _array("Alarm")}, "GET /alarms: open alarms and wiring faults"
    )
    schemas["AcknowledgedEvent"] = _acknowledged_event(schemas["BridgeEvent"])
    schemas["Acknowledgement"] = _object(
        {"acknowledged": {"type": "string"}, "events": _array("AcknowledgedEvent")},
        "the acknowledged alarm's id, and the events the acknowledgement stored",
    )
    schemas["HazardList"] = _object(
        {"hazards": _array("Hazard")}, "GET /hazards: hazards, oldest first"
    )
    schemas["EarlyWarningList"] = _object(
        {"channels": _array("ChannelTrend")},
        "GET /early-warnings: each residual-current and temperature channel's baseline",
    )
    schemas["HazardStep"] = _object(
        {"hazard": ref("Hazard")}, "a hazard after a step (acknowledged, eliminated)"
    )
    schemas["LockoutAnswer"] = _object(
        {"lockout": ref("Lockout")}, "the device's lock-out, as set and stored"
    )
    schemas["LockoutLifted"] = _object(
        {
            "lockout": {"type": "null"},
            "lifted": {"oneOf": [ref("Lockout"), {"type": "null"}]},
        },
        "no lock-out any more; the one lifted (null when there was none)",
    )
    schemas["EventPage"] = _object(
        {"events": _array("BridgeEvent"), "next_after": {"type": ["integer", "null"]}},
        "a page of the event log, oldest first; next_after is the 'after' of the next page",
    )
    # The WebSocket, bridge → client unless said otherwise.
    schemas["SnapshotMessage"] = {"description": "the first message", **ref("Snapshot")}
    schemas["EventMessage"] = _message(
        MessageType.EVENT,
        "one event of the log, stored (seq) or held by a full disk (seq null, stored false)",
        event=ref("BridgeEvent"),
    )
    schemas["DeviceStateMessage"] = _message(
        MessageType.DEVICE_STATE,
        "the live state of one device, named by its id",
        device={"allOf": [ref("DeviceState"), {"required": ["id"]}]},
    )
    schemas["StatusMessage"] = _message(
        MessageType.STATUS,
        "the bridge's health, whenever it changes and every 30 s",
        status=ref("BridgeStatus"),
    )
    schemas["HazardMessage"] = _message(
        MessageType.HAZARD,
        "a hazard opened or moved on (acknowledged, eliminated), and the statistics after it",
        hazard=ref("Hazard"),
        statistics=ref("HazardStatistics"),
    )
    schemas["PingMessage"] = _message(MessageType.PING, "client → bridge")
    schemas["PongMessage"] = _message(MessageType.PONG, "the bridge's answer to a ping")
    schemas["ErrorMessage"] = _message(
        MessageType.ERROR,
        "the bridge's answer to a client message it cannot act on: not JSON text, not an"
        " object, or a type other than ping",
        error={"type": "string"},
        message={"type": "string"},
    )
    return schemas


#: The WebSocket's messages by ``type``: who sends each, and its schema.
WEBSOCKET_MESSAGES: dict[str, dict[str, Any]] = {
    MessageType.SNAPSHOT.value: {"from": "bridge", "schema": ref("SnapshotMessage")},
    MessageType.EVENT.value: {"from": "bridge", "schema": ref("EventMessage")},
    MessageType.DEVICE_STATE.value: {"from": "bridge", "schema": ref("DeviceStateMessage")},
    MessageType.STATUS.value: {"from": "bridge", "schema": ref("StatusMessage")},
    MessageType.HAZARD.value: {"from": "bridge", "schema": ref("HazardMessage")},
    MessageType.PING.value: {"from": "client", "schema": ref("PingMessage")},
    MessageType.PONG.value: {"from": "bridge", "schema": ref("PongMessage")},
    MessageType.ERROR.value: {"from": "bridge", "schema": ref("ErrorMessage")},
}


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Electrical Safety bridge API",
        "version": "1",
        "description": (
            "The integration's only contract with the bridge. WebSocket: /api/v1/ws (the"
            " bearer token as for REST): the bridge sends a snapshot first, then event,"
            " device_state, status and hazard messages; a client may send a ping, answered with a"
            " pong. x-websocket-messages lists each message type and its schema."
        ),
    },
    "jsonSchemaDialect": DIALECT,
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": _schemas(),
    },
    "x-websocket-messages": {"path": "/api/v1/ws", "messages": WEBSOCKET_MESSAGES},
    "security": [{"bearer": []}],
    "paths": {
        "/api/v1/health": {
            "get": {
                "security": [],
                "summary": "Liveness, without authentication (the add-on's HEALTHCHECK)",
                "responses": {"200": _json(ref("Health"), "the bridge is up, and how well")},
            }
        },
        "/api/v1/info": {
            "get": {
                "summary": "Bridge id, version and buses",
                "responses": {"200": _json(ref("BridgeInfo"), "info"), "401": _ERRORS["401"]},
            }
        },
        "/api/v1/devices": {
            "get": {
                "summary": "Every device: identity, channel metadata and current values",
                "responses": {"200": _json(ref("DeviceList"), "devices"), "401": _ERRORS["401"]},
            }
        },
        "/api/v1/devices/{device_id}": {
            "get": {
                "parameters": [_DEVICE_ID],
                "summary": "One device",
                "responses": {
                    "200": _json(ref("Device"), "the device"),
                    "401": _ERRORS["401"],
                    "404": _ERRORS["404"],
                },
            }
        },
        "/api/v1/devices/{device_id}/commands": {
            "post": {
                "parameters": [_DEVICE_ID],
                "summary": "A command (reset, mute, self_test, trip, close) or a setpoint write",
                "requestBody": {
                    "required": True,
                    "description": _BODY_RULES,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "command": {
                                        "type": "string",
                                        "enum": [c.value for c in CommandName],
                                    },
                                    "setpoint": {"type": "string"},
                                    "value": {"type": "number"},
                                    "who": {"type": "string", "minLength": 1, "maxLength": 200},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json(
                        ref("CommandResult"), "the outcome: confirmed, unconfirmed or failed"
                    ),
                    **_BODY_ERRORS,
                    "401": _ERRORS["401"],
                    "404": _ERRORS["404"],
                    "409": _json(
                        {"$ref": "#/components/schemas/Error"},
                        "refused, with a machine-readable reason (alarm_active, …)",
                    ),
                    "503": _json({"$ref": "#/components/schemas/Error"}, "the bus is down"),
                },
            }
        },
        "/api/v1/alarms": {
            "get": {
                "summary": "Open (latched) alarms and wiring faults",
                "responses": {"200": _json(ref("AlarmList"), "alarms"), "401": _ERRORS["401"]},
            }
        },
        "/api/v1/alarms/{alarm_id}/acknowledge": {
            "post": {
                "parameters": [_ALARM_ID],
                "summary": "Acknowledge an alarm, recording who",
                "requestBody": {
                    "required": False,
                    "description": _BODY_RULES,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "who": {"type": "string", "minLength": 1, "maxLength": 200}
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json(ref("Acknowledgement"), "acknowledged, and stored"),
                    **_BODY_ERRORS,
                    "401": _ERRORS["401"],
                    "404": _ERRORS["404"],
                    "503": _json(
                        {"$ref": "#/components/schemas/Error"},
                        "the event store cannot write (reason storage_failing)",
                    ),
                },
            }
        },
        "/api/v1/hazards": {
            "get": {
                "summary": "Hazards, oldest first: by default those not eliminated",
                "parameters": [
                    {
                        "name": "state",
                        "in": "query",
                        "schema": {"type": "string", "enum": [s.value for s in HazardState]},
                    },
                    {"name": "device_id", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": _json(ref("HazardList"), "hazards"),
                    "400": _ERRORS["400"],
                    "401": _ERRORS["401"],
                },
            }
        },
        "/api/v1/hazards/{hazard_id}": {
            "get": {
                "parameters": [_HAZARD_ID],
                "summary": "One hazard",
                "responses": {
                    "200": _json(ref("Hazard"), "the hazard"),
                    "401": _ERRORS["401"],
                    "404": _error("no such hazard (unknown_hazard)"),
                },
            }
        },
        "/api/v1/hazards/{hazard_id}/acknowledge": {
            "post": {
                "parameters": [_HAZARD_ID],
                "summary": "Acknowledge a hazard and its alarm, recording who",
                "requestBody": _body_of(False, who=_WHO),
                "responses": {
                    "200": _json(ref("HazardStep"), "acknowledged, and stored"),
                    **_BODY_ERRORS,
                    "401": _ERRORS["401"],
                    "404": _error("no such hazard (unknown_hazard)"),
                    "409": _error("the event store cannot write (reason storage_failing)"),
                },
            }
        },
        "/api/v1/hazards/{hazard_id}/eliminate": {
            "post": {
                "parameters": [_HAZARD_ID],
                "summary": (
                    "Eliminate a hazard with a note of the cause and the fix, once a fresh"
                    " read shows its condition gone (an open one is acknowledged too)"
                ),
                "requestBody": _body_of(
                    True, who=_WHO, note={"type": "string", "minLength": 1, "maxLength": 2000}
                ),
                "responses": {
                    "200": _json(ref("HazardStep"), "eliminated, and stored"),
                    **_BODY_ERRORS,
                    "401": _ERRORS["401"],
                    "404": _error("no such hazard (unknown_hazard)"),
                    "409": _error("refused: condition_persists, device_offline or storage_failing"),
                    "503": _error("the bus is down"),
                },
            }
        },
        "/api/v1/statistics": {
            "get": {
                "summary": "Open hazards, alarms not handled, this month's counts and means",
                "responses": {
                    "200": _json(ref("HazardStatistics"), "statistics"),
                    "401": _ERRORS["401"],
                },
            }
        },
        "/api/v1/site": {
            "get": {
                "summary": (
                    "The site the bridge serves: name, region, location, supply system and"
                    " contracts (named by the bridge's id when not configured)"
                ),
                "responses": {
                    "200": _json(ref("Site"), "the site"),
                    "401": _ERRORS["401"],
                },
            }
        },
        "/api/v1/compliance": {
            "get": {
                "summary": (
                    "The compliance rules' findings for the site and its detectors (the"
                    " site's region picks the rules), worked out now; they warn, never block"
                ),
                "parameters": [
                    {
                        "name": "device_id",
                        "in": "query",
                        "description": "only this device's findings",
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "site": ref("Site"),
                                "findings": {"type": "array", "items": ref("Finding")},
                            },
                            "required": ["site", "findings"],
                        },
                        "the site and its findings, the site's own first, most severe first",
                    ),
                    "401": _ERRORS["401"],
                    "404": _ERRORS["404"],
                },
            }
        },
        "/api/v1/early-warnings": {
            "get": {
                "summary": (
                    "Each watched channel's baseline: daily level, slope per day, projected"
                    " days to the setpoint, and whether its early warning is on"
                ),
                "parameters": [
                    {
                        "name": "warning",
                        "in": "query",
                        "description": "true: only the channels whose warning is on",
                        "schema": {"type": "string", "enum": ["true", "false"]},
                    }
                ],
                "responses": {
                    "200": _json(ref("EarlyWarningList"), "the channels, by device and channel"),
                    "400": _ERRORS["400"],
                    "401": _ERRORS["401"],
                },
            }
        },
        "/api/v1/devices/{device_id}/lockout": {
            "post": {
                "parameters": [_DEVICE_ID],
                "summary": (
                    "Lock a device out for maintenance: close is refused (locked_out) on"
                    " every path until lifted or 'until' passes"
                ),
                "requestBody": _body_of(
                    True,
                    who=_WHO,
                    why={"type": "string", "minLength": 1, "maxLength": 500},
                    until={
                        "type": "number",
                        "description": "seconds since the epoch, in the future; absent:"
                        " until lifted",
                    },
                ),
                "responses": {
                    "200": _json(ref("LockoutAnswer"), "locked out, and stored"),
                    **_BODY_ERRORS,
                    "401": _ERRORS["401"],
                    "404": _ERRORS["404"],
                    "409": _error("the event store cannot write (reason storage_failing)"),
                },
            }
        },
        "/api/v1/devices/{device_id}/lockout/lift": {
            "post": {
                "parameters": [_DEVICE_ID],
                "summary": "Lift a device's lock-out (harmless when there is none)",
                "requestBody": _body_of(False, who=_WHO),
                "responses": {
                    "200": _json(ref("LockoutLifted"), "lifted, and stored"),
                    **_BODY_ERRORS,
                    "401": _ERRORS["401"],
                    "404": _ERRORS["404"],
                    "409": _error("the event store cannot write (reason storage_failing)"),
                },
            }
        },
        "/api/v1/events": {
            "get": {
                "summary": "The event log, oldest first, paged by 'after'",
                "parameters": [
                    *_EVENT_FILTERS,
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                    },
                ],
                "responses": {
                    "200": _json(ref("EventPage"), "events"),
                    "400": _ERRORS["400"],
                    "401": _ERRORS["401"],
                },
            }
        },
        "/api/v1/events.csv": {
            "get": {
                "summary": "The event log as CSV",
                "parameters": _EVENT_FILTERS,
                "responses": {
                    "200": {
                        "description": "CSV",
                        "content": {"text/csv": {"schema": {"type": "string"}}},
                    },
                    "400": _ERRORS["400"],
                    "401": _ERRORS["401"],
                },
            }
        },
    },
}
# The proof's routes (self-tests and inspections), kept in their own module.
OPENAPI["paths"].update(PROOF_PATHS)
OPENAPI["components"]["schemas"].update(PROOF_SCHEMAS)

REPORT_PATH = "/api/v1/report"
OPENAPI["paths"][REPORT_PATH] = {
    "get": {
        "summary": "The safety report of one month (JSON, HTML or PDF)",
        "parameters": [
            {
                "name": "period",
                "in": "query",
                "description": (
                    "YYYY-MM, in the bridge's time zone; the last whole month by default"
                ),
                "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
            },
            {
                "name": "format",
                "in": "query",
                "schema": {"type": "string", "enum": [f.value for f in ReportFormat]},
            },
            {
                "name": "language",
                "in": "query",
                "schema": {"type": "string", "enum": list(LANGUAGES)},
            },
        ],
        "responses": {
            "200": {
                "description": "the report",
                "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "text/html": {"schema": {"type": "string"}},
                    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                },
            },
            "400": _error("a bad period, format or language (named in 'parameter')"),
            "401": _ERRORS["401"],
        },
    }
}
