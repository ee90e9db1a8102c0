"""The web UI's routes: server-rendered pages, their live parts, and the person's actions.

Pages are rendered with Jinja2 from ``templates/``. A page marks its live parts
(``data-part``); ``static/app.js`` listens on the bridge's WebSocket and, when a message
touches a part, fetches the same page with ``?part=NAME`` and swaps that part in. So every
text is rendered (and translated) in one place, here, and the script knows no wording.

Actions (acknowledge, commands) go through the same service methods as the API, with the
same interlocks; the answer is a translated sentence for the page to show.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Protocol, runtime_checkable

import jinja2
from aiohttp import web

from .. import __version__
from ..api.backend import BridgeBackend, DeviceCommands, EventQueries
from ..common.enums import CommandName, CommandOutcome, EventType, HazardState, RefusalReason
from ..common.errors import UnknownHazard
from ..errors import BusError, CommandRefused, StorageFailing
from ..report.catalogue import LANGUAGES as REPORT_LANGUAGES
from ..report.model import previous_month
from ..report.sources import report_zone
from ..safety.alarms import UnknownAlarm
from ..storage.event_store import SCHEMA_VERSION as EVENT_STORE_SCHEMA
from ..storage.event_store import StoredEvent
from .access import (
    CSRF_HEADER,
    SESSION_COOKIE,
    SESSION_LIFETIME_S,
    WEB_UI_SOURCE,
    Access,
    Refusal,
    Visitor,
)
from .health import BusRates
from .i18n import LANGUAGES, NATIVE_NAMES, Translator, from_accept_language, supported

_LOGGER = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
LANGUAGE_COOKIE = "esb_language"
#: A language taken from Home Assistant's frontend is remembered as ``ha:<language>``, so the
#: page follows a later change there; one the person picked here stays.
_FROM_HA = "ha:"
EVENTS_PER_PAGE = 50
#: How often the bus counters are looked at for the overview's rates.
LOOK_EVERY_S = 1.0
#: The event log's periods, in seconds (None: all of it).
PERIODS: dict[str, float | None] = {
    "1h": 3600.0,
    "24h": 86400.0,
    "7d": 7 * 86400.0,
    "30d": 30 * 86400.0,
    "all": None,
}
DEFAULT_PERIOD = "24h"
#: The commands a page offers, in the order shown (each only where the device has it).
COMMAND_ORDER = (
    CommandName.TRIP,
    CommandName.CLOSE,
    CommandName.RESET,
    CommandName.SELF_TEST,
    CommandName.MUTE,
)
#: Channel kinds the devices page lists as values (the rest are diagnostics of a channel).
_HIDDEN_KINDS = frozenset({"alarm_status", "fault_status", "value_at_alarm", "identity"})


@runtime_checkable
class RelayStatus(Protocol):
    """The relay, as the overview reads it (absent when the relay is off)."""

    async def status(self) -> dict[str, Any]:
        """Queue depth, last delivery and errors per sink."""
        ...


class WebUi:
    """The routes' shared state: the bridge, who may enter, templates, rates."""

    def __init__(self, bridge: BridgeBackend, access: Access) -> None:
        self.bridge = bridge
        self.access = access
        self.rates = BusRates()
        self.templates = jinja2.Environment(
            loader=jinja2.PackageLoader(__package__, "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.globals.update(
            iso_time=iso_time,
            channel_label=channel_label,
            channel_name=channel_name,
            channel_value=channel_value,
            setpoint_label=setpoint_label,
            shown=shown_value,
        )
        # The macros as globals: a live part is rendered alone, without its page's imports.
        macros = self.templates.get_template("macros.html").module
        self.templates.globals.update(when=macros.when, action=macros.action)  # type: ignore[attr-defined]

    def look_at_buses(self) -> None:
        """Note each bus's counters now (the overview's rates are measured across looks)."""
        for bus in self.bridge.info()["buses"]:
            self.rates.look(bus["id"], time.monotonic(), bus.get("stats") or {})

    async def keep_looking(self) -> None:
        """Look at the buses every second, so that rates are there when a page asks."""
        while True:
            self.look_at_buses()
            await asyncio.sleep(LOOK_EVERY_S)


WEB_UI: web.AppKey[WebUi] = web.AppKey("web_ui")


# --------------------------------------------------------------------------- entry


def language_of(request: web.Request) -> tuple[str, bool]:
    """The page's language, and whether it came from Home Assistant's frontend or the person.

    A choice made in the switcher (cookie) first, then the browser's ``Accept-Language``
    (Supervisor forwards it under ingress), then English.
    """
    cookie = request.cookies.get(LANGUAGE_COOKIE, "")
    chosen = supported(cookie.removeprefix(_FROM_HA)) if cookie else None
    if chosen is not None:
        return chosen, not cookie.startswith(_FROM_HA)
    return from_accept_language(request.headers.get("Accept-Language")) or LANGUAGES[0], False


def guarded(
    handler: Callable[[web.Request, Visitor], Awaitable[web.StreamResponse]], *, page: bool = False
) -> Handler:
    """``handler`` for a person let in; a page sends others to the login, the rest get 401."""

    async def entry(request: web.Request) -> web.StreamResponse:
        ui = request.app[WEB_UI]
        visitor = ui.access.visitor(request)
        if visitor is Refusal.UNTRUSTED_INGRESS:
            raise web.HTTPForbidden(text="forbidden")
        if not isinstance(visitor, Visitor):
            if page and "part" not in request.query:  # a live part's script reloads on 401
                raise web.HTTPSeeOther("/login")
            ui.access.note_refusal(request, "a request without a session")
            raise web.HTTPUnauthorized(text="log in first")
        if request.method == "POST" and not ui.access.csrf_matches(
            visitor, request.headers.get(CSRF_HEADER) or await _form_field(request, "csrf")
        ):
            ui.access.note_refusal(request, "a POST without its CSRF token")
            raise web.HTTPForbidden(text="forbidden")
        return await handler(request, visitor)

    return entry


async def _form_field(request: web.Request, name: str) -> str | None:
    if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return None
    value = (await request.post()).get(name)
    return value if isinstance(value, str) else None


def _render(
    request: web.Request,
    visitor: Visitor | None,
    template: str,
    *,
    part: str | None = None,
    **values: Any,
) -> web.Response:
    """The page, or only its live part ``?part=NAME`` (or ``part``), in the visitor's language."""
    ui = request.app[WEB_UI]
    language, chosen = language_of(request)
    t = Translator(language)
    prefix = visitor.prefix if visitor is not None else ""
    context = {
        "t": t,
        "language": language,
        "language_chosen": chosen,
        "languages": [(code, NATIVE_NAMES[code]) for code in LANGUAGES],
        "prefix": prefix,
        "visitor": visitor,
        "version": __version__,
        "path": request.path,
        "query": request.query,
        **values,
    }
    page = ui.templates.get_template(template)
    part = part or request.query.get("part")
    if part is not None:
        block = page.blocks.get(part)
        if block is None:
            raise web.HTTPNotFound(text="no such part")
        html = "".join(block(page.new_context(context)))
    else:
        html = page.render(context)
    response = web.Response(text=html, content_type="text/html", charset="utf-8")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Language"] = language
    return response


def render_part(
    request: web.Request, visitor: Visitor, template: str, part: str, **values: Any
) -> web.Response:
    """One block of a page, rendered as the page renders it (the answer to a POST)."""
    return _render(request, visitor, template, part=part, **values)


def _see_other(location: str) -> web.Response:
    """A 303 to ``location`` (answered, not raised, so that cookies can be set on it)."""
    return web.Response(status=303, headers={"Location": location})


def _language_switch(request: web.Request, visitor: Visitor | None) -> web.Response | None:
    """``?lang=xx`` remembers the language and sends the person back to the page without it."""
    asked = request.query.get("lang")
    if asked is None:
        return None
    language = supported(asked)
    query = {k: v for k, v in request.query.items() if k not in ("lang", "from")}
    prefix = visitor.prefix if visitor is not None else ""
    target = prefix + request.path + ("?" + urllib.parse.urlencode(query) if query else "")
    response = _see_other(target)
    if language is not None:
        from_ha = request.query.get("from") == "ha"
        response.set_cookie(
            LANGUAGE_COOKIE,
            (_FROM_HA if from_ha else "") + language,
            path=(prefix or "") + "/",
            max_age=365 * 86400,
            httponly=True,
            samesite="Strict",
            secure=request.secure,
        )
    return response


def page(
    template: str, gather: Callable[[web.Request, Visitor], Awaitable[dict[str, Any]]]
) -> Handler:
    """A page route: the language switch, then ``gather``'s values rendered."""

    async def show(request: web.Request, visitor: Visitor) -> web.StreamResponse:
        switched = _language_switch(request, visitor)
        if switched is not None:
            return switched
        return _render(request, visitor, template, **await gather(request, visitor))

    return guarded(show, page=True)


# --------------------------------------------------------------------------- login


async def login_form(request: web.Request) -> web.StreamResponse:
    """The standalone login: one field, the bridge's token."""
    switched = _language_switch(request, None)
    if switched is not None:
        return switched
    return _render(request, None, "login.html", page_name="login", failed=False)


async def log_in(request: web.Request) -> web.StreamResponse:
    ui = request.app[WEB_UI]
    form = await request.post()
    presented = form.get("token")
    session = ui.access.log_in(presented) if isinstance(presented, str) else None
    if session is None:
        ui.access.note_refusal(request, "a login with a wrong token")
        response = _render(request, None, "login.html", page_name="login", failed=True)
        response.set_status(401)
        return response
    answer = _see_other("/")
    answer.set_cookie(
        SESSION_COOKIE,
        session,
        path="/",
        max_age=int(SESSION_LIFETIME_S),
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )
    return answer


async def _log_out(request: web.Request, visitor: Visitor) -> web.StreamResponse:
    request.app[WEB_UI].access.log_out(visitor.session)
    answer = _see_other(visitor.prefix + ("/" if visitor.ingress else "/login"))
    answer.del_cookie(SESSION_COOKIE, path="/")
    return answer


log_out = guarded(_log_out)


# --------------------------------------------------------------------------- overview


def _names(devices: list[dict[str, Any]]) -> dict[str, str]:
    return {d["id"]: str(d.get("name") or d["id"]) for d in devices}


def _channels(devices: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Each device's channels by key (kind, profile name, unit), for naming them in a page."""
    return {d["id"]: {c["key"]: c for c in d.get("channels") or []} for d in devices}


def channel_name(
    t: Translator, channels: Mapping[str, Mapping[str, Mapping[str, Any]]], device: str, key: str
) -> str:
    """The name of a device's channel in the page's language (its key if unknown)."""
    channel = channels.get(device, {}).get(key)
    if channel is None:
        return key
    return channel_label(t, key, str(channel["kind"]), str(channel["name"]))


def channel_value(
    t: Translator,
    channels: Mapping[str, Mapping[str, Mapping[str, Any]]],
    device: str,
    key: str,
    value: Any,
) -> str:
    """A value of a device's channel with the channel's unit."""
    unit = channels.get(device, {}).get(key, {}).get("unit")
    shown = shown_value(t, value)
    return f"{shown} {unit}" if unit and value is not None else shown


async def _overview(request: web.Request, visitor: Visitor) -> dict[str, Any]:
    ui = request.app[WEB_UI]
    bridge = ui.bridge
    info = bridge.info()
    status = bridge.status()
    devices = bridge.devices()
    now = time.time()
    online = {d["id"]: bool(d.get("online")) for d in devices}
    buses = []
    for bus in info["buses"]:
        rates = ui.rates.look(bus["id"], time.monotonic(), bus.get("stats") or {})
        members = list(bus.get("devices") or [])
        buses.append(
            {
                **bus,
                "rates": rates,
                "offline": [d for d in members if not online.get(d, False)],
                "stats": bus.get("stats") or {},
                "schedule": bus.get("schedule") or {},
            }
        )
    relay = getattr(bridge, "relay", None)
    relay_status = await relay.status() if isinstance(relay, RelayStatus) else None
    return {
        "page_name": "overview",
        "info": info,
        "status": status,
        "buses": buses,
        "names": _names(devices),
        "channels": _channels(devices),
        "alarms": [a.as_dict() for a in bridge.alarms.open_alarms()],
        "hazards": bridge.hazard_list(),
        "relay": relay_status,
        "gateway": info.get("gateway") or {},
        # The event store is migrated to this version when it opens (a newer one is refused).
        "store_schema": EVENT_STORE_SCHEMA,
        "now": now,
    }


overview = page("overview.html", _overview)


# --------------------------------------------------------------------------- devices


def channel_label(t: Translator, key: str, kind: str, fallback: str) -> str:
    """A channel's name in the page's language: its kind, and its number if it has one."""
    if not t.has(f"kind.{kind}"):
        return fallback
    name = t(f"kind.{kind}")
    number = key.rsplit("_", 1)[-1]
    return f"{name} {number}" if number.isdigit() and key != number else name


def setpoint_label(t: Translator, key: str, kind: str, fallback: str) -> str:
    """A setpoint's name: its kind, and the number of the channel it belongs to."""
    if not t.has(f"setpoint.{kind}"):
        return fallback
    numbers = [part for part in key.split("_") if part.isdigit()]
    name = t(f"setpoint.{kind}")
    return f"{name} ({numbers[0]})" if numbers else name


def shown_value(t: Translator, value: Any) -> str:
    """A value as the page shows it: numbers as read, states translated."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:g}" if math.isfinite(value) else str(value)
    if isinstance(value, str) and t.has(f"state.{value}"):
        return t(f"state.{value}")
    return str(value)


async def _devices(request: web.Request, visitor: Visitor) -> dict[str, Any]:
    bridge = request.app[WEB_UI].bridge
    devices = bridge.devices()
    only = request.query.get("device")
    shown = [d for d in devices if only is None or d["id"] == only]
    return {
        "page_name": "devices",
        "devices": shown,
        # The one device a live part (``?part=device&device=ID``) renders.
        "device": shown[0] if len(shown) == 1 else None,
        "hidden_kinds": _HIDDEN_KINDS,
        "command_order": [str(c) for c in COMMAND_ORDER],
        # Each shown device's hazards not yet eliminated, oldest first.
        "hazards": {d["id"]: bridge.hazard_list(device_id=d["id"]) for d in shown},
        "lockout_spans": list(LOCKOUT_SPANS),
    }


devices = page("devices.html", _devices)


# --------------------------------------------------------------------------- events


def _seq(query: Mapping[str, str], name: str) -> int | None:
    """A sequence number of the query (``before``/``after``), or None (at most 18 digits)."""
    text = query.get(name, "")
    return int(text) if text.isdigit() and len(text) < 19 else None


def _event_filters(query: Mapping[str, str], now: float) -> dict[str, Any]:
    period = query.get("period", DEFAULT_PERIOD)
    if period not in PERIODS:
        period = DEFAULT_PERIOD
    span = PERIODS[period]
    event_type = query.get("type") or None
    types = [EventType(event_type)] if event_type in set(EventType) else None
    return {
        "device_id": query.get("device") or None,
        "types": types,
        "since": None if span is None else now - span,
        "period": period,
    }


async def _event_page(
    store: EventQueries, filters: Mapping[str, Any], before: int | None, after: int | None
) -> tuple[list[StoredEvent], bool, bool]:
    """One page of the log, newest first: its events, whether newer and older ones exist.

    The first page is the newest; ``before`` pages back (older), ``after`` forward (newer).
    """
    if after is not None and before is None:
        # The page just above ``after``: read forward, then show it newest first.
        found = await store.query(**filters, after_seq=after, limit=EVENTS_PER_PAGE + 1)
        newer = len(found) > EVENTS_PER_PAGE
        return found[:EVENTS_PER_PAGE][::-1], newer, True
    found = await store.query(
        **filters, before_seq=before, newest_first=True, limit=EVENTS_PER_PAGE + 1
    )
    return found[:EVENTS_PER_PAGE], before is not None, len(found) > EVENTS_PER_PAGE


async def _events(request: web.Request, visitor: Visitor) -> dict[str, Any]:
    bridge = request.app[WEB_UI].bridge
    filters = _event_filters(request.query, time.time())
    period = filters.pop("period")
    before, after = _seq(request.query, "before"), _seq(request.query, "after")
    events, newer, older = await _event_page(bridge.store, filters, before, after)
    keep = {k: v for k, v in request.query.items() if k in ("device", "type", "period") and v}
    csv_query = {
        key: value
        for key, value in (
            ("device_id", filters["device_id"]),
            ("type", request.query.get("type") if filters["types"] else None),
            ("since", None if filters["since"] is None else f"{filters['since']:.0f}"),
        )
        if value
    }
    devices = bridge.devices()
    first_page = before is None and after is None
    return {
        "page_name": "events",
        "channels": _channels(devices),
        "setpoints": {d["id"]: {s["key"]: s for s in d.get("setpoints") or []} for d in devices},
        "events": [e.as_dict() for e in events],
        "names": _names(devices),
        "event_types": [str(e) for e in EventType],
        "periods": list(PERIODS),
        "period": period,
        "device": filters["device_id"] or "",
        "type": request.query.get("type", "") if filters["types"] else "",
        "first_page": first_page,
        "newest_query": None if first_page else urllib.parse.urlencode(keep),
        "newer_query": (
            urllib.parse.urlencode({**keep, "after": events[0].seq}) if newer and events else None
        ),
        "older_query": (
            urllib.parse.urlencode({**keep, "before": events[-1].seq}) if older and events else None
        ),
        "csv_query": urllib.parse.urlencode(csv_query),
    }


events = page("events.html", _events)


# --------------------------------------------------------------------------- reports

#: How many months back the reports page offers (the current one, so far, first).
REPORT_MONTHS = 12


def report_months(now: float, zone: tzinfo) -> list[str]:
    """The months a person may pick, newest first: ``YYYY-MM``, the current one first."""
    month = datetime.fromtimestamp(now, zone).replace(day=1, hour=12)
    months = []
    for _ in range(REPORT_MONTHS):
        months.append(month.strftime("%Y-%m"))
        month = (month - timedelta(days=1)).replace(day=1)
    return months


async def _reports(request: web.Request, visitor: Visitor) -> dict[str, Any]:
    zone, zone_name = report_zone()
    now = time.time()
    months = report_months(now, zone)
    period = request.query.get("period", "")
    if period not in months:
        period = previous_month(now, zone)  # the report API's own default: the last whole month
    language = request.query.get("report_language", "")
    if language not in REPORT_LANGUAGES:
        language = language_of(request)[0]
    query = {"period": period, "language": language}
    return {
        "page_name": "reports",
        "months": months,
        "current_month": months[0],
        "period": period,
        "report_language": language,
        "report_languages": [(code, NATIVE_NAMES[code]) for code in REPORT_LANGUAGES],
        "zone_name": zone_name,
        "report_query": {
            fmt: urllib.parse.urlencode({**query, "format": fmt}) for fmt in ("html", "pdf", "json")
        },
    }


reports = page("reports.html", _reports)


def iso_time(at: float | None) -> str:
    """A time as ISO 8601 in UTC (the page shows it in the browser's own zone)."""
    if at is None:
        return ""
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- actions


def _said(ok: bool, message: str) -> web.Response:
    return web.json_response({"ok": ok, "message": message})


def refusal_text(t: Translator, reason: str | None, device: str) -> str:
    """A refusal in the person's words (``refusal.<reason>``), naming the device."""
    key = f"refusal.{reason}"
    return t(key, device=device) if reason and t.has(key) else t("refusal.other", device=device)


async def _acknowledge(
    request: web.Request,
    acknowledge: Callable[[str], Awaitable[object]],
    target: str,
    unknown: type[Exception],
    unknown_text: str,
) -> web.Response:
    """Acknowledge ``target`` through the service (the API's own path) and say how it went."""
    t = Translator(language_of(request)[0])
    try:
        await acknowledge(target)
    except unknown:
        return _said(False, t(unknown_text))
    except StorageFailing:
        return _said(False, refusal_text(t, RefusalReason.STORAGE_FAILING, target))
    return _said(True, t("action.acknowledged"))


async def _acknowledge_alarm(request: web.Request, visitor: Visitor) -> web.StreamResponse:
    bridge = request.app[WEB_UI].bridge
    return await _acknowledge(
        request,
        lambda alarm_id: bridge.acknowledge(alarm_id, visitor.who, WEB_UI_SOURCE),
        request.match_info["alarm_id"],
        UnknownAlarm,
        "action.unknown_alarm",
    )


async def _acknowledge_hazard(request: web.Request, visitor: Visitor) -> web.StreamResponse:
    bridge = request.app[WEB_UI].bridge
    return await _acknowledge(
        request,
        lambda hazard_id: bridge.acknowledge_hazard(hazard_id, visitor.who, WEB_UI_SOURCE),
        request.match_info["hazard_id"],
        UnknownHazard,
        "action.unknown_hazard",
    )


async def _command(request: web.Request, visitor: Visitor) -> web.StreamResponse:
    t = Translator(language_of(request)[0])
    device_id, bus, name = _device_of(request)
    command = (await request.post()).get("command")
    if not isinstance(command, str) or command not in set(CommandName):
        return _said(False, refusal_text(t, RefusalReason.COMMAND_UNSUPPORTED, name))
    what = t(f"command.{command}")
    try:
        result = await bus.command(device_id, command, who=visitor.who)
    except CommandRefused as exc:
        return _said(False, refusal_text(t, str(exc.reason), name))
    except BusError:
        return _said(False, t("action.bus_unavailable", device=name))
    if result.outcome == CommandOutcome.REFUSED:
        return _said(False, refusal_text(t, result.reason, name))
    return _said(
        result.outcome == CommandOutcome.CONFIRMED,
        t(f"outcome.{result.outcome.value}", command=what, device=name),
    )


def _device_of(request: web.Request) -> tuple[str, DeviceCommands, str]:
    """The path's device: its id, its bus, and its name (404 when the bridge has none)."""
    bridge = request.app[WEB_UI].bridge
    device_id = request.match_info["device_id"]
    bus = bridge.device_bus.get(device_id)
    if bus is None:
        raise web.HTTPNotFound(text="no such device")
    return device_id, bus, str(bridge.device(device_id).get("name") or device_id)


def _number(text: object) -> float | None:
    """A finite number typed in a form (``12``, ``0.5``, ``1,5`` is not one), or None."""
    if not isinstance(text, str):
        return None
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


async def _write_setpoint(request: web.Request, visitor: Visitor) -> web.StreamResponse:
    """Write a setpoint through the bus, as the API does: the profile's bounds, never to an
    unverified profile, recorded, and read back."""
    t = Translator(language_of(request)[0])
    device_id, bus, name = _device_of(request)
    form = await request.post()
    key = form.get("setpoint")
    setpoint = next(
        (
            s
            for s in request.app[WEB_UI].bridge.device(device_id).get("setpoints") or []
            if s.get("key") == key
        ),
        None,
    )
    if setpoint is None or not isinstance(key, str):
        return _said(False, refusal_text(t, RefusalReason.COMMAND_UNSUPPORTED, name))
    label = setpoint_label(t, key, str(setpoint["kind"]), str(setpoint["name"]))
    value = _number(form.get("value"))
    if value is None:
        return _said(False, t("devices.setpoint_not_a_number", device=name, setpoint=label))
    try:
        result = await bus.write_setpoint(device_id, key, value, who=visitor.who)
    except CommandRefused as exc:
        result_reason: str | None = str(exc.reason)
    except BusError:
        return _said(False, t("action.bus_unavailable", device=name))
    else:
        if result.outcome == CommandOutcome.CONFIRMED:
            unit = setpoint.get("unit")
            shown = shown_value(t, result.state) + (f" {unit}" if unit else "")
            return _said(
                True, t("devices.setpoint_confirmed", device=name, setpoint=label, value=shown)
            )
        if result.outcome != CommandOutcome.REFUSED:
            return _said(False, t(f"outcome.{result.outcome.value}", command=label, device=name))
        result_reason = result.reason
    if result_reason == RefusalReason.VALUE_OUT_OF_RANGE:
        unit = setpoint.get("unit")
        return _said(
            False,
            t(
                "devices.setpoint_out_of_range",
                device=name,
                setpoint=label,
                low=shown_value(t, setpoint.get("min")),
                high=shown_value(t, setpoint.get("max")) + (f" {unit}" if unit else ""),
            ),
        )
    return _said(False, refusal_text(t, result_reason, name))


#: How long a lock-out set from the page lasts (seconds; None: until someone lifts it).
LOCKOUT_SPANS: dict[str, float | None] = {
    "lifted": None,
    "1h": 3600.0,
    "8h": 8 * 3600.0,
    "24h": 86400.0,
    "7d": 7 * 86400.0,
}


async def _lock_out(request: web.Request, visitor: Visitor) -> web.StreamResponse:
    t = Translator(language_of(request)[0])
    device_id, _, name = _device_of(request)
    form = await request.post()
    why = form.get("why")
    span = form.get("until", "lifted")
    if not isinstance(why, str) or not why.strip() or len(why) > MAX_TEXT:
        return _said(False, t("devices.lockout_why_needed"))
    if not isinstance(span, str) or span not in LOCKOUT_SPANS:
        return _said(False, t("devices.lockout_until_unknown"))
    length = LOCKOUT_SPANS[span]
    until = None if length is None else time.time() + length
    try:
        await request.app[WEB_UI].bridge.lock_out(
            device_id, visitor.who, why.strip(), until, WEB_UI_SOURCE
        )
    except CommandRefused as exc:
        return _said(False, refusal_text(t, str(exc.reason), name))
    return _said(True, t("devices.locked_out_done", device=name))


async def _lift_lock_out(request: web.Request, visitor: Visitor) -> web.StreamResponse:
    t = Translator(language_of(request)[0])
    device_id, _, name = _device_of(request)
    try:
        lifted = await request.app[WEB_UI].bridge.lift_lock_out(
            device_id, visitor.who, WEB_UI_SOURCE
        )
    except CommandRefused as exc:
        return _said(False, refusal_text(t, str(exc.reason), name))
    return _said(
        True, t("devices.lockout_lifted" if lifted else "devices.lockout_none", device=name)
    )


#: The longest note or reason a person may type (the API's bounds: 2000 and 500).
MAX_TEXT = 500
MAX_NOTE = 2000


async def _eliminate_hazard(request: web.Request, visitor: Visitor) -> web.StreamResponse:
    """Eliminate a hazard: the bridge reads its device afresh and may refuse."""
    bridge = request.app[WEB_UI].bridge
    t = Translator(language_of(request)[0])
    hazard_id = request.match_info["hazard_id"]
    note = (await request.post()).get("note")
    if not isinstance(note, str) or not note.strip() or len(note) > MAX_NOTE:
        return _said(False, t("devices.hazard_note_needed"))
    try:
        device_id = str(bridge.hazard(hazard_id)["device_id"])
        name = str(bridge.device(device_id).get("name") or device_id)
    except (UnknownHazard, KeyError, CommandRefused):
        return _said(False, t("action.unknown_hazard"))
    try:
        await bridge.eliminate_hazard(hazard_id, visitor.who, note.strip(), WEB_UI_SOURCE)
    except UnknownHazard:
        return _said(False, t("action.unknown_hazard"))
    except CommandRefused as exc:
        return _said(False, refusal_text(t, str(exc.reason), name))
    except BusError:
        return _said(False, t("action.bus_unavailable", device=name))
    return _said(True, t("devices.hazard_eliminated", device=name))


acknowledge_alarm = guarded(_acknowledge_alarm)
acknowledge_hazard = guarded(_acknowledge_hazard)
eliminate_hazard = guarded(_eliminate_hazard)
command = guarded(_command)
write_setpoint = guarded(_write_setpoint)
lock_out = guarded(_lock_out)
lift_lock_out = guarded(_lift_lock_out)


def hazard_states() -> list[str]:
    """The hazard states, for the templates."""
    return [str(s) for s in HazardState]
