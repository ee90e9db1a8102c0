"""The safety report of a simulated month, from a running bridge, in every language.

The month is written into a real event store and statistics file (simulated_month.py), a
real bridge on a simulated bus is started on them, and ``GET /api/v1/report`` is asked for
JSON, HTML and PDF in en, zh-Hans and ja. The JSON's numbers must be the injected ones; the
HTML and the PDF's text (pdftotext) must show them; the PDF must embed the Noto CJK fonts
(pdffonts: no tofu) and print to PNG pages (pdftoppm). Set ``REPORT_PAGES_DIR`` to keep the
pages for a person to look at.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from electrical_safety_bridge.common.site import Finding
from electrical_safety_bridge.report.catalogue import CATALOGUE, LANGUAGES

from ..api.conftest import Running, running_bridge
from ..conftest import wait_for
from .simulated_month import PERIOD, ZONE_NAME, Expected, write_month

pytestmark = pytest.mark.usefixtures("socket_enabled")

FINDING = Finding(
    rule_id="CN-RC-SETPOINT",
    severity="warning",
    source="GB 50116-2013 §9.2.3",
    device_id="arcm",
    channel="residual_current",
    value=500,
    limit=300,
    unit="mA",
)
TEST_RECORDS = (
    {"at": 0.0, "type": "self_test_missed", "device_id": "asj"},
    {"at": 0.0, "inspection_kind": "jp_equipment_check", "who": "Inspector Sato"},
)


async def _get(api: Running, params: dict[str, str]) -> tuple[int, str, bytes]:
    async with api.session.get(api.url + "/report", headers=api.auth, params=params) as response:
        return response.status, response.content_type, await response.read()


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} (poppler-utils) is needed: .ci/run installs it"
    return path


def _check_json(report: dict[str, Any], expected: Expected) -> None:
    summary = report["summary"]
    for key, value in expected.summary.items():
        assert summary[key] == value, key
    # The two extra records (a missed test, an inspection) and the finding are counted.
    assert (summary["tests_missed"], summary["inspections"], summary["findings"]) == (1, 1, 1)
    assert {c["kind"]: c["count"] for c in report["alarm_counts"]} == expected.alarm_counts
    channels = {(c["device_id"], c["channel"]): c for c in report["channels"]}
    leak = channels[("arcm", "residual_current")]
    assert leak["maximum"] == expected.leak_maximum
    assert leak["maximum_hour"] == expected.leak_maximum_hour
    assert leak["typical"] == expected.leak_typical
    assert [s["value"] for s in leak["setpoint_steps"]] == expected.setpoint_steps
    assert leak["setpoint"] == expected.setpoint_steps[-1]
    assert leak["hours"] == 31 * 24
    assert channels[("arcm", "temperature_1")]["maximum"] == expected.temp_maximum
    assert channels[("arcm", "temperature_2")]["hours"] == 0  # no readings: no chart
    timeline = [
        (e["hazard_id"], e["acknowledged_by"], e["eliminated_by"], e["state"])
        for e in report["timeline"]
    ]
    assert timeline == expected.timeline
    assert report["period"]["timezone"] == ZONE_NAME
    assert [o["hours"] for o in report["outages"]] == [3.0, 0.5]
    assert [f["rule_id"] for f in report["findings"]] == ["CN-RC-SETPOINT"]
    assert report["early_warnings"][0]["projected_days"] == 12.0


def _shown_numbers(expected: Expected) -> list[str]:
    """Numbers every rendering must show: the peak, the setpoint, the outage, the names."""
    return ["412 mA", "500 mA", "61.5 °C", "3.00", "Alice", "Bob", "CN-RC-SETPOINT"]


def _keep(body: bytes, path: Path) -> None:
    """Keep a rendering for a person to look at (``REPORT_PAGES_DIR``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)


def _check_pdf(pdf: bytes, language: str, tmp_path: Path, expected: Expected) -> None:
    """The PDF's text shows the numbers, its fonts are the language's, its pages print."""
    texts = CATALOGUE[language]
    assert pdf.startswith(b"%PDF")
    pdf_path = tmp_path / f"report-{language}.pdf"
    pdf_path.write_bytes(pdf)
    pdf_text = subprocess.run(
        [_tool("pdftotext"), "-layout", str(pdf_path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert texts["title"] in pdf_text
    assert texts["summary.alarms"] in pdf_text
    for number in _shown_numbers(expected):
        assert number in pdf_text, number
    fonts = subprocess.run(
        [_tool("pdffonts"), str(pdf_path)], check=True, capture_output=True, text=True
    ).stdout
    # The CJK glyphs come from the CJK font of the language (no tofu), and no face other
    # than the body's families had to stand in.
    variant = {"en": "", "zh-Hans": "Noto-Sans-CJK-SC", "ja": "Noto-Sans-CJK-JP"}[language]
    assert variant in fonts, fonts
    assert "Serif" not in fonts, fonts
    pages = tmp_path / "pages"
    pages.mkdir()
    subprocess.run(
        [_tool("pdftoppm"), "-r", "70", "-png", str(pdf_path), str(pages / language)],
        check=True,
    )
    pngs = sorted(pages.glob("*.png"))
    assert pngs and all(p.read_bytes().startswith(b"\x89PNG") for p in pngs)
    if keep := os.environ.get("REPORT_PAGES_DIR"):
        Path(keep).mkdir(parents=True, exist_ok=True)
        for png in pngs:
            shutil.copy(png, Path(keep) / png.name)
        shutil.copy(pdf_path, Path(keep) / pdf_path.name)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_simulated_month_in_every_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, language: str
) -> None:
    expected = write_month(tmp_path / "data", rc="arcm", other="asj", bus="line")
    monkeypatch.setenv("TZ", ZONE_NAME)
    async with running_bridge(tmp_path) as api:
        month_start = 1790784000.0  # 2026-10-01 00:00 Asia/Shanghai
        api.bridge.report_extras.findings = lambda: [FINDING]
        api.bridge.report_extras.test_records = lambda: [
            {**record, "at": month_start + 86400 * (5 + index)}
            for index, record in enumerate(TEST_RECORDS)
        ]
        await wait_for(
            lambda: all(u.online for u in api.bridge.buses["line"].units.values()),
            what="every unit online",
        )
        status, content_type, body = await _get(
            api, {"period": PERIOD, "format": "json", "language": language}
        )
        assert (status, content_type) == (200, "application/json"), body[:300]

        report = json.loads(body)
        assert report["language"] == language
        _check_json(report, expected)

        status, content_type, html = await _get(
            api, {"period": PERIOD, "format": "html", "language": language}
        )
        assert (status, content_type) == (200, "text/html")
        text = html.decode()
        texts = CATALOGUE[language]
        assert texts["title"] in text and texts["section.outages"] in text
        for number in _shown_numbers(expected):
            assert number in text, number
        if keep := os.environ.get("REPORT_PAGES_DIR"):
            _keep(html, Path(keep) / f"report-{language}.html")
        # Leakage and temperature 1: the channels with readings have a chart each.
        assert text.count('src="data:image/svg+xml;base64,') == 2

        status, content_type, pdf = await _get(
            api, {"period": PERIOD, "format": "pdf", "language": language}
        )
        assert (status, content_type) == (200, "application/pdf")
    # The page was made by a child process: the bridge never loads the charting and PDF
    # libraries (its memory stays that of a bridge).
    assert "weasyprint" not in sys.modules and "matplotlib" not in sys.modules
    _check_pdf(pdf, language, tmp_path, expected)


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"period": "2026-13"}, "period"),
        ({"period": "October"}, "period"),
        ({"period": "2999-01"}, "period"),
        ({"format": "docx"}, "format"),
        ({"language": "fr"}, "language"),
    ],
)
async def test_a_bad_request_names_the_parameter(
    tmp_path: Path, params: dict[str, str], parameter: str
) -> None:
    async with running_bridge(tmp_path) as api:
        status, _, body = await _get(api, params)

    answer = json.loads(body)
    assert status == 400 and answer["parameter"] == parameter, answer
    assert params[parameter] in answer["message"]


async def test_an_empty_month_says_no_records(tmp_path: Path) -> None:
    async with running_bridge(tmp_path) as api:
        status, _, html = await _get(api, {"format": "html", "language": "ja"})
        status_json, _, body = await _get(api, {})
    assert status == status_json == 200
    # Every section of the month is empty; the findings are the rules' now, not the month's
    # (the API tests' bridge has a Chinese site), so that section may have some.
    assert html.decode().count(CATALOGUE["ja"]["no_records"]) >= 7

    report = json.loads(body)
    assert report["summary"]["alarms"] == 0 and report["timeline"] == []


async def test_a_page_that_cannot_be_made_is_an_error_saying_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bridge(tmp_path) as api:
        # The renderer's interpreter gone: the child cannot start its work.
        monkeypatch.setattr(sys, "executable", "/bin/false")
        status, _, body = await _get(api, {"format": "pdf"})
        status_json, _, _ = await _get(api, {"format": "json"})  # JSON needs no child
    answer = json.loads(body)
    assert (status, answer["error"]) == (500, "report_failed")
    assert "pdf page could not be made (exit 1)" in answer["message"]
    assert status_json == 200
