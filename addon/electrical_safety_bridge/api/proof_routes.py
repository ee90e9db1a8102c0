"""API v1 routes of the proof: self-test records and schedule, inspection records and due
dates (``proof_service.py``). Added to the application by :func:`add_proof_routes`.

- ``GET /self-tests`` (``device_id``, ``since``, ``until``, ``limit``): records, newest first;
- ``POST /self-tests`` ``{device_id, who?}``: run one now; answers with its judged record;
- ``GET /self-tests/schedule``: each device's schedule and next due time;
- ``GET /inspections`` (``kind``, ``since``, ``until``, ``limit``): records, newest first,
  and the checklists to fill in;
- ``POST /inspections`` ``{kind, items: [{id, outcome, note?}], note?, who?}``;
- ``GET /inspections/due``: when each tracked inspection is next due.
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from aiohttp import web

from ..common.enums import InspectionKind
from ..common.errors import BusUnavailable, UnknownDevice
from ..errors import BusError, CommandRefused
from ..proof_service import Proof
from ..safety.inspections import InvalidInspection
from .http import (
    _BRIDGE,
    _answer,
    _BadRequest,
    _body,
    _by,
    _integer_parameter,
    _json,
    _shown,
    _time_parameter,
    _who,
)

_DEFAULT_LIMIT = 100
_MAX_LIMIT = 1000


class ProofBackend(Protocol):
    """What these routes need of the bridge."""

    @property
    def proof(self) -> Proof | None:
        """The bridge's proof (None before it started)."""
        ...


def _proof(request: web.Request) -> Proof:
    proof = cast(ProofBackend, request.app[_BRIDGE]).proof
    if proof is None:
        raise web.HTTPServiceUnavailable(reason="Starting")
    return proof


def _period(request: web.Request) -> dict[str, Any]:
    query = request.query
    limit = _integer_parameter(query, "limit", 1, _MAX_LIMIT)
    return {
        "since": _time_parameter(query, "since"),
        "until": _time_parameter(query, "until"),
        "limit": _DEFAULT_LIMIT if limit is None else limit,
    }


async def _self_tests(request: web.Request) -> web.Response:
    proof = _proof(request)
    period = _period(request)
    device_id = request.query.get("device_id")
    if device_id is not None and device_id not in request.app[_BRIDGE].device_bus:
        raise UnknownDevice(device_id)
    records = await proof.self_tests(device_id, **period)
    return _json({"self_tests": [r.to_dict() for r in records]})


async def _schedule(request: web.Request) -> web.Response:
    return _json({"schedule": _proof(request).schedule()})


async def _run_self_test(request: web.Request) -> web.Response:
    proof = _proof(request)
    data = await _body(request)
    who = _who(data, request)
    device_id = data.get("device_id")
    if not isinstance(device_id, str) or not device_id:
        raise _BadRequest(
            f"'device_id' must name a device, not {_shown(repr(device_id))}",
            parameter="device_id",
            value=_shown(repr(device_id)),
        )
    try:
        record = await proof.run_self_test(device_id, _by(who, request))
    except CommandRefused as exc:
        return _answer(exc)
    except BusError as exc:
        return _answer(BusUnavailable(str(exc)))
    return _json({"self_test": record.to_dict()})


async def _inspections(request: web.Request) -> web.Response:
    proof = _proof(request)
    period = _period(request)
    kind = request.query.get("kind")
    if kind is not None and kind not in {k.value for k in InspectionKind}:
        raise _BadRequest(
            f"'kind' must be an inspection kind, not '{_shown(kind)}'",
            parameter="kind",
            value=_shown(kind),
        )
    records = await proof.inspections(kind, **period)
    return _json({"inspections": [r.to_dict() for r in records], "checklists": proof.checklists()})


async def _record_inspection(request: web.Request) -> web.Response:
    proof = _proof(request)
    data = await _body(request)
    who = _who(data, request)
    body = {k: v for k, v in data.items() if k != "who"}
    try:
        record = await proof.record_inspection(body, _by(who, request))
    except InvalidInspection as exc:
        shown = None if exc.value is None else _shown(repr(exc.value))
        raise _BadRequest(str(exc), parameter=exc.key, value=shown) from None
    return _json({"inspection": record.to_dict()})


async def _due(request: web.Request) -> web.Response:
    due = await _proof(request).due()
    return _json({"due": [d.to_dict() for d in due]})


def add_proof_routes(app: web.Application) -> None:
    """Add the proof's routes to API v1."""
    app.router.add_get("/api/v1/self-tests", _self_tests)
    app.router.add_post("/api/v1/self-tests", _run_self_test)
    app.router.add_get("/api/v1/self-tests/schedule", _schedule)
    app.router.add_get("/api/v1/inspections", _inspections)
    app.router.add_post("/api/v1/inspections", _record_inspection)
    app.router.add_get("/api/v1/inspections/due", _due)
