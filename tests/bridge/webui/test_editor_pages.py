"""The profile editor in a real browser (Debian's Chromium), under the ingress path prefix,
against a real bridge on the simulator.

Each test saves a screenshot under ``.artifacts/webui/`` for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.select import Select

from electrical_safety_bridge.profiles.loader import find_profile
from tests.chromium import chromium, wait_for, wait_for_element

from .conftest import LiveBridge
from .ingress import PREFIX
from .test_editor import BROKEN, MINE, PROFILES

ARTIFACTS = Path(__file__).resolve().parents[3] / ".artifacts" / "webui"
ACCEPT = {"en": "en-US,en", "zh-Hans": "zh-CN,zh", "ja": "ja-JP,ja"}


@pytest.fixture
def live(tmp_path: Path, socket_enabled: None) -> Iterator[LiveBridge]:
    """The web UI's bridge with a user profile folder holding one profile of the user's."""
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "my_aafd.yaml").write_text(MINE, encoding="utf-8")
    with LiveBridge(tmp_path, ingress_proxy_address="127.0.0.1", profile_dir=folder) as running:
        yield running


def _screenshot(browser: WebDriver, name: str) -> Path:
    """The whole page (the window made as tall as it), as ``.artifacts/webui/<name>.png``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1280, min(int(height) + 120, 6000))
    browser.execute_script("window.scrollTo(0, 0)")
    path = ARTIFACTS / f"{name}.png"
    browser.save_screenshot(str(path))
    return path


def _open(browser: WebDriver, live: LiveBridge, query: str = "") -> None:
    assert live.ingress is not None
    browser.get(f"{live.ingress.url}/profiles{query}")
    wait_for(browser, "return document.body.dataset.editor === '1'", what="the editor script")


def _type(browser: WebDriver, text: str) -> None:
    """Replace the editor's text by typing ``text``, key by key, as a person would."""
    area = browser.find_element(By.ID, "profile-text")
    area.clear()
    area.send_keys(text)
    _wait_checked(browser)


def _wait_checked(browser: WebDriver) -> None:
    """Until the check of the text now in the editor is shown."""
    wait_for(
        browser,
        "return document.body.dataset.checked === '1'"
        " && document.querySelector('#check-panel .check') !== null",
        what="the live check",
    )


@pytest.mark.parametrize("language", ["en", "zh-Hans", "ja"])
def test_a_broken_profile_shows_its_problems_with_key_path_and_value_as_typed(
    live: LiveBridge, socket_enabled: None, language: str
) -> None:
    with chromium(window=(1280, 1000), language=ACCEPT[language]) as browser:
        _open(browser, live, "?open=user/my_aafd.yaml")
        assert browser.execute_script("return document.documentElement.lang") == language
        # Every URL the page writes stays under the ingress prefix.
        urls = browser.execute_script(
            "return [...document.querySelectorAll('a[href], link[href], script[src]')]"
            ".map(e => e.getAttribute('href') || e.getAttribute('src'))"
        )
        assert urls and all(url.startswith(PREFIX + "/") for url in urls), urls
        wait_for_element(browser, '#check-panel .check[data-state="ok"]')
        assert browser.find_element(By.ID, "profile-name").get_attribute("value") == "my_aafd.yaml"
        browser.execute_script("window.notReloaded = true")
        _type(browser, BROKEN)
        kind = wait_for_element(browser, 'li.problem[data-path="channels[4].kind"]')
        assert "arc_counter" in kind.find_element(By.CSS_SELECTOR, "code.bad-value").text
        address = wait_for_element(browser, 'li.problem[data-path="channels[4].address"]')
        assert address.find_element(By.CSS_SELECTOR, "code.bad-value").text == "65536"
        assert "must be between 0 and 0xFFFF" in address.text
        heading = browser.find_element(By.CSS_SELECTOR, "#check-panel p.refused").text
        assert str(live.tmp_path / "profiles" / "my_aafd.yaml") in heading
        assert browser.find_element(By.ID, "save").get_attribute("disabled") is not None
        # The problem leads to its line in the editor.
        address.click()
        selected = browser.execute_script(
            "const a = document.getElementById('profile-text');"
            "return a.value.slice(a.selectionStart, a.selectionEnd)"
        )
        assert selected == "    address: 0x10000"
        assert browser.execute_script("return window.notReloaded") is True
        _screenshot(browser, f"profiles-broken-{language}")
        if language != "en":
            return
        # An uploaded file goes into the editor, checked the same way.
        upload = live.tmp_path / "from_the_installer.yaml"
        upload.write_text(BROKEN.replace("kind: arc_counter", "kind: arc_count"), "utf-8")
        browser.find_element(By.ID, "profile-file").send_keys(str(upload))
        wait_for(
            browser,
            "return document.getElementById('profile-name').value === 'from_the_installer.yaml'",
            what="the uploaded file in the editor",
        )
        wait_for_element(browser, 'li.problem[data-path="channels[4].address"]')
        kinds = browser.find_elements(By.CSS_SELECTOR, 'li.problem[data-path="channels[4].kind"]')
        assert kinds == []
        typed = browser.find_element(By.ID, "profile-text").get_attribute("value")
        assert typed == upload.read_text("utf-8")


def _filled_template() -> str:
    """The ARCM300 template filled in from the simulator's map, as a person would from the
    manual: each address typed, what the unit lacks deleted, a model name of their own."""
    template = yaml.safe_load(
        (PROFILES / "templates" / "acrel_arcm300_template.yaml").read_text(encoding="utf-8")
    )
    fields: dict[str, dict[str, Any]] = {
        "residual_current": {"address": 0x0000},
        "frequency": {"address": 0x000B, "scale": 0.01},
        "energy": {"address": 0x0009, "scale": 0.01},
        "residual_current_alarm": {"address": 0x0020, "bit": 0},
        "residual_current_wiring_fault": {"address": 0x0021, "bit": 0},
        "digital_input_2": {"address": 0x0022, "bit": 1},
        "digital_output_1": {"address": 0x0023, "bit": 0},
        "digital_output_2": {"address": 0x0023, "bit": 1},
        "residual_current_at_alarm": {"address": 0x000D},
        "residual_current_alarm_setpoint": {"address": 0x0030},
        "action_delay": {"address": 0x0035, "scale": 0.1, "min": 0, "max": 30},
    }
    for n in range(1, 5):
        fields[f"temperature_{n}"] = {"address": n, "scale": 0.1}
        fields[f"temperature_{n}_alarm"] = {"address": 0x0020, "bit": n}
        fields[f"temperature_{n}_wiring_fault"] = {"address": 0x0021, "bit": n}
        fields[f"temperature_{n}_at_alarm"] = {"address": 0x000D + n, "scale": 0.1}
        fields[f"temperature_{n}_alarm_setpoint"] = {"address": 0x0030 + n}
    for section in ("channels", "setpoints"):
        kept = [entry for entry in template[section] if entry["key"] in fields]
        template[section] = [{**entry, **fields[entry["key"]]} for entry in kept]
    template["model"] = "ARCM300"
    template["manual_version"] = "simulator map 1"
    template["commands"] = {
        name: {"address": 0x0040 + index, "value": 1}
        for index, name in enumerate(("reset", "mute", "self_test", "trip"))
    }
    return yaml.safe_dump(template, allow_unicode=True, sort_keys=False, width=200)


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_template_filled_in_reads_the_simulated_unit_and_saves_unverified(
    live: LiveBridge, socket_enabled: None, language: str
) -> None:
    arcm = live.sim.unit(1)
    live.run(lambda: arcm.set("residual_current", 42))
    live.run(lambda: arcm.set("temperature_2", 31.5))
    with chromium(window=(1280, 1000), language=ACCEPT[language]) as browser:
        _open(browser, live)
        browser.find_element(
            By.CSS_SELECTOR, 'tr[data-profile="template/acrel_arcm300_template.yaml"] a'
        ).click()
        wait_for_element(browser, '#check-panel .check[data-state="template"]')
        assert browser.find_element(By.ID, "profile-name").get_attribute("value") == "arcm300.yaml"
        filled = _filled_template()
        _type(browser, filled)
        wait_for_element(browser, '#check-panel .check[data-state="ok"]')
        Select(browser.find_element(By.ID, "try-bus")).select_by_value("line")
        unit = browser.find_element(By.ID, "try-unit")
        unit.clear()
        unit.send_keys("1")
        browser.find_element(By.ID, "try-read").click()
        wait_for(browser, "return document.body.dataset.tried === '1'", what="the try")
        rows = browser.find_elements(By.CSS_SELECTOR, "tr.tried-value")
        decoded = {r.get_attribute("data-key"): r.get_attribute("data-decoded") for r in rows}
        profile = find_profile("SIM-ARCM")
        keys = [c.key for c in profile.channels] + [s.key for s in profile.setpoints]
        simulated = live.run(lambda: {key: str(arcm.get(key).value) for key in keys})
        expected = {key: value for key, value in simulated.items() if key in decoded}
        assert len(decoded) == 31 and len(expected) == 30  # action_delay is alarm_delay there
        assert {key: decoded[key] for key in expected} == expected
        assert decoded["residual_current"] == "42" and decoded["temperature_2"] == "31.5"
        assert decoded["action_delay"] == str(live.run(lambda: arcm.get("alarm_delay").value))
        # Each value shows its raw registers beside it.
        raw = browser.find_element(By.CSS_SELECTOR, 'tr[data-key="residual_current"] td.raw')
        assert raw.text.startswith("0x002A (42)")
        # The person confirms every value against the display, then saves.
        for row in browser.find_elements(By.CSS_SELECTOR, "tr.tried-value"):
            row.find_element(By.CSS_SELECTOR, "input.display").send_keys(
                row.get_attribute("data-decoded") or "-"
            )
            row.find_element(By.CSS_SELECTOR, "input.confirm").click()
        status = browser.find_element(By.ID, "confirm-status")
        assert status.get_attribute("class") == "ok-text"
        _screenshot(browser, f"profiles-tried-{language}")
        browser.find_element(By.ID, "save").click()
        notice = wait_for_element(browser, "#notice.ok:not([hidden])", what="the saved notice")
        saved = live.tmp_path / "profiles" / "arcm300.yaml"
        assert str(saved) in notice.text
        wait_for_element(browser, 'tr[data-profile="user/arcm300.yaml"]')
        title = {"en": "Editing arcm300.yaml", "ja": "arcm300.yaml を編集中"}[language]
        assert browser.find_element(By.ID, "editor-title").text == title
        text = saved.read_text(encoding="utf-8")
        assert re.findall(r"^verified:.*$", text, re.MULTILINE) == ["verified: false"]
        assert "#   residual_current: 42 mA (registers 0x002A); display: 42" in text
        assert "confirmed in the web UI's profile editor by Li Landlord" in text
        mine = find_profile("ARCM300", saved.parent)
        assert not mine.verified and not mine.can_write
        # Nothing was ever written to the unit: no command, no register changed.
        assert live.run(lambda: arcm.command_log) == []
        _screenshot(browser, f"profiles-saved-{language}")
