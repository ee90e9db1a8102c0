"""The report as a page: HTML from a Jinja2 template, PDF from that HTML by WeasyPrint.

One template serves both, so the PDF is the HTML page printed (A4, numbered pages). Every
text comes from the catalogue in the report's language; times are shown in the period's time
zone; each value carries its unit.
"""

from __future__ import annotations

import base64
import math
import re
import threading
from datetime import datetime, tzinfo
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from .catalogue import Translator
from .charts import channel_chart
from .model import SafetyReport

#: The body font per language: the Noto CJK variant draws Han characters as that language
#: writes them; DejaVu Sans (or Noto's own Latin) covers the rest.
BODY_FONTS = {
    "en": '"DejaVu Sans", "Noto Sans CJK JP", sans-serif',
    "zh-Hans": '"Noto Sans CJK SC", "DejaVu Sans", sans-serif',
    "ja": '"Noto Sans CJK JP", "DejaVu Sans", sans-serif',
}
_NUMBERED = re.compile(r"_(\d+)(?:_|$)")
_ENVIRONMENT = Environment(
    loader=PackageLoader("electrical_safety_bridge.report", "templates"),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
# WeasyPrint lays out one document at a time per process (its caches are shared).
_PDF_LOCK = threading.Lock()


class _Formats:
    """The template's helpers, bound to one language and time zone."""

    def __init__(self, tr: Translator, zone: tzinfo) -> None:
        self.tr = tr
        self.zone = zone

    def when(self, at: float | None) -> str:
        if at is None:
            return ""
        return datetime.fromtimestamp(at, self.zone).strftime("%Y-%m-%d %H:%M")

    def number(self, value: Any, unit: str | None = None) -> str:
        if isinstance(value, bool):
            return self.tr("yes") if value else self.tr("no")
        if isinstance(value, int | float):
            if not math.isfinite(value):
                return str(value)
            text = f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
        elif value is None:
            return ""
        else:
            text = str(value)
        return f"{text} {unit}" if unit else text

    def seconds(self, value: float | None) -> str:
        """A short duration, to the hundredth of a second."""
        return "" if value is None else f"{value:.2f} s"

    def percent(self, share: float | None) -> str:
        return "" if share is None else f"{share * 100:.0f} %"

    def channel(self, kind: str | None, key: str) -> str:
        """A channel as a person names it: its kind in the language, and its number."""
        label = self.tr.value("kind", kind) if kind else key
        if label == kind:
            return key
        number = _NUMBERED.search(key)
        return f"{label} {number[1]}" if number else label

    def setpoint(self, kind: str | None, key: str) -> str:
        label = self.tr.value("setpoint", kind) if kind else key
        if label == kind:
            return key
        number = _NUMBERED.search(key)
        return f"{label} {number[1]}" if number else label


def render_html(report: SafetyReport, language: str, zone: tzinfo) -> str:
    """The report as one self-contained HTML page (charts inline as SVG)."""
    tr = Translator(language)
    formats = _Formats(tr, zone)
    # Each chart is an image of its own (a data: URL, nothing fetched): inline SVGs would
    # share matplotlib's element ids and glyph names, which must be unique in one page.
    charts = {
        (c.device_id, c.channel): Markup('<img alt="" src="data:image/svg+xml;base64,{}">').format(
            base64.b64encode(svg.encode()).decode("ascii")
        )
        for c in report.channels
        if (svg := channel_chart(c, tr, zone)) is not None
    }
    template = _ENVIRONMENT.get_template("report.html.j2")
    return template.render(
        report=report,
        summary=report.summary,
        charts=charts,
        t=tr,
        v=tr.value,
        f=formats,
        language=language,
        body_font=BODY_FONTS[language],
    )


def render_pdf(html: str) -> bytes:
    """The HTML page printed to PDF by WeasyPrint (fonts from the system's fontconfig)."""
    # Imported here: WeasyPrint loads Pango through cffi, which only the PDF needs.
    from weasyprint import HTML  # type: ignore[import-untyped]

    with _PDF_LOCK:
        document = HTML(string=html).write_pdf()
    assert document is not None
    return bytes(document)
