"""``GET /api/v1/report``: the safety report of one month, as JSON, HTML or PDF.

Query: ``period=YYYY-MM`` (the last whole month by default, counted in the bridge's time
zone), ``format=json|html|pdf`` (json by default), ``language=en|zh-Hans|ja`` (en by
default). A bad value is a 400 naming the parameter and the value.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from ..report.catalogue import DEFAULT_LANGUAGE, LANGUAGES, UnknownLanguage
from ..report.model import CONTENT_TYPES, InvalidPeriod, ReportFormat
from ..report.sources import ReportRenderError, ReportSource, gather_report, render_report
from .openapi import REPORT_PATH

_LOGGER = logging.getLogger(__name__)
_SOURCE: web.AppKey[ReportSource] = web.AppKey("report_source")
_SHOWN = 40


def _bad(message: str, parameter: str, value: str) -> web.Response:
    return web.json_response(
        {
            "error": "bad_request",
            "message": message,
            "parameter": parameter,
            "value": value[:_SHOWN],
        },
        status=400,
    )


async def serve_report(request: web.Request) -> web.Response:
    """The report route's handler (the web UI serves it too, behind its own guard)."""
    query = request.query
    fmt_text = query.get("format", ReportFormat.JSON.value)
    try:
        fmt = ReportFormat(fmt_text)
    except ValueError:
        return _bad(
            f"'format' must be one of {', '.join(f.value for f in ReportFormat)},"
            f" not '{fmt_text[:_SHOWN]}'",
            "format",
            fmt_text,
        )
    language = query.get("language", DEFAULT_LANGUAGE)
    period = query.get("period")
    try:
        report, zone = await gather_report(request.app[_SOURCE], period, language)
    except UnknownLanguage:
        return _bad(
            f"'language' must be one of {', '.join(LANGUAGES)}, not '{language[:_SHOWN]}'",
            "language",
            language,
        )
    except InvalidPeriod as exc:
        return _bad(str(exc), "period", period or "")
    try:
        body = await render_report(report, zone, language, fmt)
    except ReportRenderError as exc:
        _LOGGER.error("%s", exc)
        return web.json_response({"error": "report_failed", "message": str(exc)}, status=500)
    if isinstance(body, dict):
        return web.Response(
            text=json.dumps(body, ensure_ascii=False, allow_nan=False),
            content_type=CONTENT_TYPES[fmt],
        )
    name = f"electrical_safety_report_{report.site_id}_{report.period.label}_{language}.{fmt}"
    headers = {"Content-Disposition": f'inline; filename="{name}"'}
    if fmt is ReportFormat.HTML:
        return web.Response(
            body=body, content_type=CONTENT_TYPES[fmt], charset="utf-8", headers=headers
        )
    return web.Response(body=body, content_type=CONTENT_TYPES[fmt], headers=headers)


def add_report_route(app: web.Application, source: Any) -> None:
    """Serve the report of ``source`` (a running bridge) on ``app``."""
    app[_SOURCE] = source
    app.router.add_get(REPORT_PATH, serve_report)
