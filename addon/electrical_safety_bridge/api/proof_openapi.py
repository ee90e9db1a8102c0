"""The OpenAPI paths and answer schemas of the proof's routes (``proof_routes.py``), merged
into ``openapi.OPENAPI``. The records themselves are wire models (``common/proof.py``),
whose schemas the document already holds."""

from __future__ import annotations

from typing import Any

from ..common.json_schema import ref


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _answer(description: str, **properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": description,
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": True,
    }


def _array(name: str) -> dict[str, Any]:
    return {"type": "array", "items": ref(name)}


_ERROR = ref("Error")
_400 = _json(_ERROR, "bad input, the key or parameter named in 'parameter'")
_401 = _json(_ERROR, "missing or wrong token")
#: What every route with a JSON body may answer besides its own errors (http.py's _body).
_413 = _json(_ERROR, "the body is larger than 64 KiB")
_415 = _json(_ERROR, "the body is not application/json, or its charset is not utf-8")
_PERIOD = [
    {"name": "since", "in": "query", "schema": {"type": "number"}},
    {"name": "until", "in": "query", "schema": {"type": "number"}},
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
]
_WHO = {"type": "string", "minLength": 1, "maxLength": 200}

PROOF_SCHEMAS: dict[str, Any] = {
    "SelfTestList": _answer(
        "GET /self-tests: self-test records, newest first", self_tests=_array("SelfTestRecord")
    ),
    "SelfTestAnswer": _answer(
        "a self-test run now, judged and stored", self_test=ref("SelfTestRecord")
    ),
    "SelfTestSchedule": _answer(
        "GET /self-tests/schedule: each device's schedule", schedule=_array("SelfTestScheduleEntry")
    ),
    "InspectionList": _answer(
        "GET /inspections: records, newest first, and the checklists to fill in (each item's"
        " id, its text in en / zh-Hans / ja, and its source)",
        inspections=_array("InspectionRecord"),
        checklists={"type": "array", "items": {"type": "object"}},
    ),
    "InspectionAnswer": _answer("an inspection, stored", inspection=ref("InspectionRecord")),
    "InspectionDueList": _answer(
        "GET /inspections/due: the tracked inspections' due dates", due=_array("InspectionDue")
    ),
}

PROOF_PATHS: dict[str, Any] = {
    "/api/v1/self-tests": {
        "get": {
            "summary": "Self-test records (pass, fail, no_response, missed), newest first",
            "parameters": [
                {"name": "device_id", "in": "query", "schema": {"type": "string"}},
                *_PERIOD,
            ],
            "responses": {
                "200": _json(ref("SelfTestList"), "records"),
                "400": _400,
                "401": _401,
                "404": _json(_ERROR, "no such device"),
            },
        },
        "post": {
            "summary": "Run a device's self-test now; answers once it is judged (up to 40 s)",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {"device_id": {"type": "string"}, "who": _WHO},
                            "required": ["device_id"],
                        }
                    }
                },
            },
            "responses": {
                "200": _json(ref("SelfTestAnswer"), "judged and stored"),
                "400": _400,
                "401": _401,
                "413": _413,
                "415": _415,
                "404": _json(_ERROR, "no such device"),
                "409": _json(_ERROR, "refused (profile_unverified, command_unsupported, …)"),
                "503": _json(_ERROR, "the bus is unavailable"),
            },
        },
    },
    "/api/v1/self-tests/schedule": {
        "get": {
            "summary": "Each device's self-test schedule and next due time",
            "responses": {"200": _json(ref("SelfTestSchedule"), "schedule"), "401": _401},
        }
    },
    "/api/v1/inspections": {
        "get": {
            "summary": "Inspection records, newest first, and the checklists",
            "parameters": [{"name": "kind", "in": "query", "schema": {"type": "string"}}, *_PERIOD],
            "responses": {
                "200": _json(ref("InspectionList"), "records"),
                "400": _400,
                "401": _401,
            },
        },
        "post": {
            "summary": "Record an inspection: every checklist item's outcome",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "kind": {"type": "string"},
                                "items": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "id": {"type": "string"},
                                            "outcome": {"enum": ["ok", "not_ok", "not_applicable"]},
                                            "note": {"type": "string"},
                                        },
                                        "required": ["id", "outcome"],
                                    },
                                },
                                "note": {"type": "string"},
                                "who": _WHO,
                            },
                            "required": ["kind", "items"],
                        }
                    }
                },
            },
            "responses": {
                "200": _json(ref("InspectionAnswer"), "stored"),
                "400": _400,
                "401": _401,
                "413": _413,
                "415": _415,
                "409": _json(_ERROR, "the event store cannot write (reason storage_failing)"),
            },
        },
    },
    "/api/v1/inspections/due": {
        "get": {
            "summary": "When each tracked inspection is next due, and whether it is overdue",
            "responses": {"200": _json(ref("InspectionDueList"), "due dates"), "401": _401},
        }
    },
}
