"""The generate_report service action against the rig's real bridge, on a simulated month.

The month is written into the rig bridge's own event store and statistics file (the bridge
restarted on them), Home Assistant calls ``electrical_safety.generate_report``, and the
answer's JSON must carry the injected numbers while the HTML and the PDF land in the media
folder, where the Media panel shows them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import voluptuous as vol
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.electrical_safety.const import DOMAIN
from custom_components.electrical_safety.report import report_language

from ..bridge.report.simulated_month import PERIOD, ZONE_NAME, Expected, write_month
from .rig import Rig


@pytest.fixture
def platforms() -> list[Platform]:
    return [Platform.SENSOR]


@pytest.fixture
def month(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> Expected:
    """The rig's bridge, restarted on a simulated October (counted in Shanghai time)."""
    rig.stop_bridge()
    expected = write_month(rig.data_dir, rc="arcm-1", other="asj-4", bus="line-1")
    monkeypatch.setenv("TZ", ZONE_NAME)  # the bridge counts months in TZ, as in the add-on
    rig.start_bridge()
    return expected


@pytest.mark.parametrize("language", ["zh-Hans", "ja"])
async def test_generate_report_answers_with_the_json_and_writes_the_files(
    hass: HomeAssistant,
    month: Expected,
    loaded_entry: MockConfigEntry,
    tmp_path: Path,
    language: str,
) -> None:
    media = tmp_path / "media"
    hass.config.media_dirs = {"local": str(media)}
    answer = await hass.services.async_call(
        DOMAIN,
        "generate_report",
        {"period": PERIOD, "language": language},
        blocking=True,
        return_response=True,
    )
    assert answer is not None
    report = answer["report"]
    assert (report["language"], report["period"]["label"]) == (language, PERIOD)
    for key, value in month.summary.items():
        assert report["summary"][key] == value, key
    counts = {c["kind"]: c["count"] for c in report["alarm_counts"]}
    assert counts == month.alarm_counts
    leak = next(
        c
        for c in report["channels"]
        if (c["device_id"], c["channel"]) == ("arcm-1", "residual_current")
    )
    assert (leak["maximum"], leak["typical"]) == (month.leak_maximum, month.leak_typical)
    stem = f"safety_report_test-bridge_{PERIOD}_{language}"
    files = answer["files"]
    pdf = media / "electrical_safety" / f"{stem}.pdf"
    html = media / "electrical_safety" / f"{stem}.html"
    assert files["pdf"] == {
        "path": str(pdf),
        "media_content_id": f"media-source://media_source/local/electrical_safety/{stem}.pdf",
    }
    assert files["html"]["path"] == str(html)
    assert pdf.read_bytes().startswith(b"%PDF")
    text = html.read_text(encoding="utf-8")
    assert "412 mA" in text and "Alice" in text and "Kitchen" in text
    assert not list(media.glob("electrical_safety/.*"))  # no partial file left behind


async def test_without_a_language_the_report_follows_home_assistant(
    hass: HomeAssistant, month: Expected, loaded_entry: MockConfigEntry, tmp_path: Path
) -> None:
    hass.config.media_dirs = {"local": str(tmp_path / "media")}
    hass.config.language = "ja"
    answer = await hass.services.async_call(
        DOMAIN, "generate_report", {"period": PERIOD}, blocking=True, return_response=True
    )
    assert answer is not None and answer["report"]["language"] == "ja"


def test_home_assistant_languages_map_to_the_reports() -> None:
    assert [report_language(x) for x in ("zh-Hans", "zh-Hant", "ja", "en-GB", "de")] == [
        "zh-Hans",
        "zh-Hans",
        "ja",
        "en",
        "en",
    ]


async def test_a_bad_month_is_refused_before_the_bridge_is_asked(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    with pytest.raises(vol.Invalid, match="period"):
        await hass.services.async_call(
            DOMAIN, "generate_report", {"period": "October"}, blocking=True
        )


async def test_a_month_the_bridge_refuses_is_an_error_saying_so(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, tmp_path: Path
) -> None:
    hass.config.media_dirs = {"local": str(tmp_path / "media")}
    with pytest.raises(HomeAssistantError, match="2999-01"):
        await hass.services.async_call(
            DOMAIN, "generate_report", {"period": "2999-01"}, blocking=True
        )
    assert not (tmp_path / "media").exists()
