"""Renders one report page in a process of its own: ``python -m ...report.render_worker``.

matplotlib, Jinja2 and WeasyPrint together take some 65 MB; loaded in the bridge they would
stay for good after the first report, on boards where the bridge is meant to stay under
80 MB. A short-lived child loads them, prints the page and exits, giving the memory back.
The bridge sends the report (a pickle, parent to its own child over a pipe: nothing else
writes there) and reads the HTML or PDF bytes back; a failure is the child's exit status
and its last lines of stderr.
"""

from __future__ import annotations

import pickle
import sys

from .model import ReportFormat
from .render import render_html, render_pdf


def main() -> int:
    """Read ``(report, language, zone, format)`` from stdin; write the page to stdout."""
    # From our parent, over its own pipe (see above): not untrusted input.
    report, language, zone, fmt = pickle.load(sys.stdin.buffer)
    html = render_html(report, language, zone)
    body = html.encode() if fmt is ReportFormat.HTML else render_pdf(html)
    sys.stdout.buffer.write(body)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
