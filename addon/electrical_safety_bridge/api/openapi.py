"""The OpenAPI 3.1 document of the REST part of API v1 (tests and fuzzing are driven by it)."""

from __future__ import annotations

from typing import Any

_ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string"},
        "reason": {"type": "string"},
        "parameter": {
            "type": "string",
            "description": "the query parameter, body key (a.b[0]) or header that was wrong",
        },
        "value": {"type": "string", "description": "the value refused, shortened if long"},
    },
}


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
_OBJECT = {"type": "object"}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Electrical Safety bridge API",
        "version": "1",
        "description": "The integration's only contract with the bridge. WebSocket: /api/v1/ws.",
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {"Error": _ERROR},
    },
    "security": [{"bearer": []}],
    "paths": {
        "/api/v1/health": {
            "get": {
                "security": [],
                "summary": "Liveness, without authentication (the add-on's HEALTHCHECK)",
                "responses": {"200": _json(_OBJECT, "the bridge is up")},
            }
        },
        "/api/v1/info": {
            "get": {
                "summary": "Bridge id, version and buses",
                "responses": {"200": _json(_OBJECT, "info"), "401": _ERRORS["401"]},
            }
        },
        "/api/v1/devices": {
            "get": {
                "summary": "Every device: identity, channel metadata and current values",
                "responses": {"200": _json(_OBJECT, "devices"), "401": _ERRORS["401"]},
            }
        },
        "/api/v1/devices/{device_id}": {
            "get": {
                "parameters": [_DEVICE_ID],
                "summary": "One device",
                "responses": {
                    "200": _json(_OBJECT, "the device"),
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
                                        "enum": ["reset", "mute", "self_test", "trip", "close"],
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
                    "200": _json(_OBJECT, "the outcome: confirmed, unconfirmed or failed"),
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
                "responses": {"200": _json(_OBJECT, "alarms"), "401": _ERRORS["401"]},
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
                    "200": _json(_OBJECT, "acknowledged, and stored"),
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
                    "200": _json(_OBJECT, "events"),
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
