"""The report's charts: each channel's hourly values against its alarm setpoint (matplotlib).

Charts are SVG with the text drawn as paths, so the HTML page and the PDF show the same
glyphs whatever fonts the reader has. Chinese and Japanese legends need a CJK font: the Noto
CJK family (``fonts-noto-cjk`` on Debian, ``font-noto-cjk`` on Alpine) is matplotlib's
fallback behind DejaVu Sans, in the variant of the report's language (Han characters are
drawn differently in Chinese and in Japanese).
"""

from __future__ import annotations

import io
import threading
from datetime import tzinfo
from typing import Any

import matplotlib
from matplotlib import dates as mdates
from matplotlib.figure import Figure

from .catalogue import Translator
from .model import ChannelStats

#: The CJK face matplotlib falls back to, per language.
CJK_FONT = {"zh-Hans": "Noto Sans CJK SC", "ja": "Noto Sans CJK JP", "en": "Noto Sans CJK JP"}
_MEAN_COLOUR = "#1f5fa8"
_MAX_COLOUR = "#9bb8dc"
_SETPOINT_COLOUR = "#c62828"
# matplotlib's settings are process-wide: one chart at a time.
_LOCK = threading.Lock()


def _days(times: list[float]) -> list[float]:
    """Seconds since the epoch as matplotlib's date numbers: days since its default epoch,
    1970-01-01 (the bridge ships no matplotlibrc that would move it)."""
    return [at / 86400.0 for at in times]


def channel_chart(stats: ChannelStats, tr: Translator, zone: tzinfo) -> str | None:
    """The channel's chart as an SVG document, or None when it has no readings."""
    if not stats.points:
        return None
    settings: Any = {
        "font.family": ["DejaVu Sans", CJK_FONT.get(tr.language, CJK_FONT["en"])],
        "font.size": 8,
        "svg.fonttype": "path",
        "svg.hashsalt": "electrical-safety-report",  # the same report renders the same bytes
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
    with _LOCK, matplotlib.rc_context(settings):
        # Figure alone, never pyplot: no GUI backend, no global figure list in a service.
        figure = Figure(figsize=(7.0, 2.1), layout="constrained")
        axes = figure.add_subplot()
        hours = _days([p.hour for p in stats.points])
        axes.plot(
            hours,
            [p.maximum for p in stats.points],
            color=_MAX_COLOUR,
            linewidth=0.8,
            label=tr("chart.hourly_max"),
        )
        axes.plot(
            hours,
            [p.mean for p in stats.points],
            color=_MEAN_COLOUR,
            linewidth=1.0,
            label=tr("chart.hourly_mean"),
        )
        top = max(p.maximum for p in stats.points)
        if stats.setpoint_steps:
            end = max(stats.points[-1].hour, stats.setpoint_steps[-1].at)
            axes.step(
                _days([s.at for s in stats.setpoint_steps] + [end]),
                [s.value for s in stats.setpoint_steps] + [stats.setpoint_steps[-1].value],
                where="post",
                color=_SETPOINT_COLOUR,
                linestyle="--",
                linewidth=1.0,
                label=tr("chart.setpoint"),
            )
            top = max(top, *(s.value for s in stats.setpoint_steps))
        axes.set_ylim(0, top * 1.15 if top > 0 else 1)
        axes.set_ylabel(stats.unit or "")
        locator = mdates.AutoDateLocator(tz=zone, minticks=4, maxticks=10)  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(
            mdates.DateFormatter("%m-%d", tz=zone)  # type: ignore[no-untyped-call]
        )
        axes.grid(axis="y", linewidth=0.3, color="#cccccc")
        axes.legend(
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0),
            ncols=3,
            frameon=False,
            borderaxespad=0.1,
        )
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()
