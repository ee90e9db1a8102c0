"""The register explorer's routes: the page, a read, and a proposed channel.

Reads go through the backend's ``read_registers`` (the bus's lowest priority, after
commands, alarm polls, telemetry and the gateway), one at a time per person: a second read
while the first still waits for the line is answered "wait" rather than queued, so that
watch mode can never pile reads up. Both actions answer JSON with a translated sentence and
the HTML the page swaps in, rendered here, so the page's script holds no wording.
The explorer never writes: there is no route here that could.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web

from ..api.backend import BridgeBackend
from ..common.enums import ChannelKind
from ..errors import BusBusy, BusError, DeviceException, DeviceTimeout
from . import views
from .access import Visitor
from .explorer import (
    FUNCTIONS,
    MAX_COUNT,
    PAIR_DECODINGS,
    PROPOSABLE,
    WIDE_TYPES,
    Change,
    ExplorerProblem,
    ReadRange,
    changes,
    hex4,
    pair_rows,
    propose,
    register_rows,
)
from .i18n import Translator

#: What the form offers first: the first 16 holding registers.
DEFAULT_COUNT = 16
#: Pause between two reads of watch mode, in milliseconds (each read still waits its turn).
WATCH_PAUSE_MS = 250
#: Modbus exception codes the page explains (others are named by their number).
_EXPLAINED_EXCEPTIONS = frozenset({1, 2, 3, 4, 6})

_IN_FLIGHT: web.AppKey[set[str]] = web.AppKey("explorer_reads_in_flight")


def mount(app: web.Application) -> None:
    """Add the explorer's routes to the web UI (after :func:`..webui.mount`)."""
    app[_IN_FLIGHT] = set()
    app.router.add_get("/explorer", page)
    app.router.add_post("/explorer/read", read)
    app.router.add_post("/explorer/propose", proposal)


# --------------------------------------------------------------------------- page


def _configured_units(bridge: BridgeBackend) -> list[dict[str, Any]]:
    """The configured units by name, for the unit menu (any other unit can be typed)."""
    units = [
        {
            "id": d["id"],
            "name": d.get("name") or d["id"],
            "bus": d.get("bus"),
            "unit": d.get("unit"),
        }
        for d in bridge.devices()
        if d.get("bus") is not None and d.get("unit") is not None
    ]
    return sorted(units, key=lambda u: (str(u["bus"]), int(u["unit"])))


def _int_query(query: Any, name: str, default: int) -> int:
    text = query.get(name, "")
    return int(text) if text.isdigit() and len(text) < 7 else default


async def _page(request: web.Request, visitor: Visitor) -> dict[str, Any]:
    bridge = request.app[views.WEB_UI].bridge
    buses = [str(bus["id"]) for bus in bridge.info()["buses"]]
    units = _configured_units(bridge)
    query = request.query
    first: dict[str, Any] = units[0] if units else {"bus": buses[0] if buses else "", "unit": 1}
    return {
        "page_name": "explorer",
        "buses": buses,
        "units": units,
        "chosen": {
            "bus": query.get("bus") if query.get("bus") in buses else first["bus"],
            "unit": _int_query(query, "unit", int(first["unit"])),
            "function": _int_query(query, "function", 3),
            "address": _int_query(query, "address", 0),
            "count": _int_query(query, "count", DEFAULT_COUNT),
        },
        "functions": FUNCTIONS,
        "max_count": MAX_COUNT,
        "types": [t.value for t in PROPOSABLE],
        "kinds": [str(k) for k in ChannelKind],
        "watch_pause_ms": WATCH_PAUSE_MS,
        "hex4": hex4,
    }


page = views.page("explorer.html", _page)


# --------------------------------------------------------------------------- actions


def _fragment(request: web.Request, template: str, **values: Any) -> str:
    """One of the explorer's fragments, in the person's language."""
    t = Translator(views.language_of(request)[0])
    templates = request.app[views.WEB_UI].templates
    return templates.get_template(template).render(t=t, **values)


def _refused(t: Translator, key: str, /, **values: object) -> web.Response:
    return web.json_response({"ok": False, "message": t(key, **values)})


def _whole(t: Translator, body: dict[str, Any], name: str) -> int:
    """A whole number from the request, or a sentence naming the field and its value."""
    value = body.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip()
    base = 16 if text.lower().startswith("0x") else 10
    try:
        return int(text, base)
    except ValueError:
        raise ExplorerProblem(
            "explorer.error.not_whole", field=t(f"explorer.field.{name}"), value=text
        ) from None


def _registers(body: dict[str, Any], name: str) -> list[int] | None:
    words = body.get(name)
    if not isinstance(words, list) or not all(
        isinstance(w, int) and not isinstance(w, bool) and 0 <= w <= 0xFFFF for w in words
    ):
        return None
    return words


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="a JSON object is expected") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="a JSON object is expected")
    return body


def _read_failure(t: Translator, exc: Exception, asked: ReadRange) -> str:
    """What went wrong with a read, in the person's words, naming the values."""
    where = {
        "bus": asked.bus,
        "unit": asked.unit,
        "first": hex4(asked.address),
        "last": hex4(asked.last),
        "count": asked.count,
        "function": f"{asked.function:02d}",
    }
    if isinstance(exc, DeviceTimeout):
        return t("explorer.error.timeout", **where)
    if isinstance(exc, DeviceException):
        code = exc.exception_code
        if code in _EXPLAINED_EXCEPTIONS:
            return t(f"explorer.error.exception_{code}", **where)
        return t("explorer.error.exception", code=f"{code:02d}", **where)
    if isinstance(exc, BusBusy):
        return t("explorer.error.busy", **where)
    return t("explorer.error.bus_down", **where)


def _changes_since(before: object, asked: ReadRange, registers: list[int]) -> list[Change]:
    """What differs from an earlier read ``before`` of the same unit and registers (sent
    back by the page as the bridge answered it), or nothing when it read something else."""
    if not isinstance(before, dict):
        return []
    same_source = all(
        str(before.get(k)) == str(v)
        for k, v in (("bus", asked.bus), ("unit", asked.unit), ("function", asked.function))
    )
    previous = _registers(before, "registers")
    address = before.get("address")
    if not same_source or previous is None or not isinstance(address, int):
        return []
    return changes(asked.address, registers, address, previous)


async def _read(request: web.Request, visitor: Visitor) -> web.StreamResponse:
    ui = request.app[views.WEB_UI]
    t = Translator(views.language_of(request)[0])
    body = await _json_body(request)
    try:
        asked = ReadRange(
            bus=str(body.get("bus") or ""),
            unit=_whole(t, body, "unit"),
            function=_whole(t, body, "function"),
            address=_whole(t, body, "address"),
            count=_whole(t, body, "count"),
        )
    except ExplorerProblem as problem:
        return _refused(t, problem.key, **problem.values)
    if asked.bus not in {str(bus["id"]) for bus in ui.bridge.info()["buses"]}:
        return _refused(t, "explorer.error.unknown_bus", bus=asked.bus)
    in_flight = request.app[_IN_FLIGHT]
    if visitor.csrf in in_flight:
        return _refused(t, "explorer.error.in_flight")
    in_flight.add(visitor.csrf)
    try:
        registers = await ui.bridge.read_registers(
            asked.bus, asked.unit, asked.function, asked.address, asked.count
        )
    except (DeviceTimeout, DeviceException, BusError) as exc:
        retry = isinstance(exc, DeviceTimeout | BusBusy)
        return web.json_response(
            {"ok": False, "retry": retry, "message": _read_failure(t, exc, asked)}
        )
    except asyncio.CancelledError:
        raise
    finally:
        in_flight.discard(visitor.csrf)
    changed = _changes_since(body.get("previous"), asked, registers)
    # Watch mode highlights what moved since it started; a single read, since the read before.
    since_baseline = _changes_since(body.get("baseline") or body.get("previous"), asked, registers)
    at = time.time()
    rows = register_rows(asked.address, registers, since_baseline)
    pairs = pair_rows(asked.address, registers, since_baseline)
    values = {"asked": asked, "hex4": hex4, "at": at, "iso_time": views.iso_time}
    return web.json_response(
        {
            "ok": True,
            "message": t(
                "explorer.read_done",
                count=len(registers),
                first=hex4(asked.address),
                last=hex4(asked.last),
                unit=asked.unit,
                changed=len(changed),
            ),
            "bus": asked.bus,
            "unit": asked.unit,
            "function": asked.function,
            "address": asked.address,
            "registers": registers,
            "changed": len(changed),
            "table": _fragment(
                request,
                "explorer_table.html",
                rows=rows,
                pairs=pairs,
                decodings=[(kind.value, order.value) for kind, order in PAIR_DECODINGS],
                **values,
            ),
            "timeline": _fragment(request, "explorer_timeline.html", changes=changed, **values),
        }
    )


async def _propose(request: web.Request, visitor: Visitor) -> web.StreamResponse:
    t = Translator(views.language_of(request)[0])
    body = await _json_body(request)
    try:
        address = _whole(t, body, "address")
        words = _registers(body, "registers")
        if words is None:
            raise ExplorerProblem("explorer.error.nothing_selected")
        register_type = str(body.get("type") or "u16")
        width = 2 if register_type in WIDE_TYPES else 1
        offered = propose(
            address,
            words,
            register_type=register_type,
            word_order=str(body.get("word_order") or "big"),
            scale=str(body.get("scale") or "1"),
            # Until the person names it, the channel is keyed by its kind.
            key=str(body.get("key") or body.get("kind") or ""),
            kind=str(body.get("kind") or ""),
            unit=str(body.get("unit_of_measure") or ""),
            name=str(body.get("name") or ""),
            comment=t(
                "explorer.yaml_comment",
                bus=str(body.get("bus") or ""),
                unit=str(body.get("modbus_unit") or ""),
                function=str(body.get("function") or ""),
                registers=" ".join(hex4(w) for w in words[:width]),
            )
            + "\n"
            + t("explorer.yaml_check"),
        )
    except ExplorerProblem as problem:
        return _refused(t, problem.key, **problem.values)
    return web.json_response(
        {
            "ok": True,
            "yaml": offered.yaml,
            "value": offered.value,
            "html": _fragment(
                request,
                "explorer_proposal.html",
                proposal=offered,
                hex4=hex4,
                registers=" ".join(hex4(w) for w in offered.registers),
            ),
        }
    )


read = views.guarded(_read)
proposal = views.guarded(_propose)
