"""`make demo`'s Home Assistant in a real browser, used as a person uses it.

The owner logs in through Home Assistant's login page (typing the name and password the
demo printed), lands on the alarm-first dashboard, waits for the alarm the demo's story
leaves for a person (an arc in the bedroom), and presses its Acknowledge button in the
page; the bridge's record then names the owner. The dashboard is then looked at in
English, Simplified Chinese and Japanese (the profile's language and Home Assistant's,
which names the entities), each screenshot kept in ``.artifacts/browser/`` and its text
checked to be in that language.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from ..chromium import (
    find,
    page_text,
    wait_for,
    wait_for_element,
    wait_for_element_gone,
    wait_for_text,
)
from ..waiting import wait_for as wait_until
from .conftest import ROOT, SCREENSHOTS, Demo

pytestmark = [pytest.mark.usefixtures("socket_enabled"), pytest.mark.timeout(420)]

TRANSLATIONS = ROOT / "custom_components" / "electrical_safety" / "translations"
#: The detector whose alarm the story leaves for a person, and its name on the dashboard.
BEDROOM = "bedroom-aafd"
BEDROOM_NAME = "Bedroom sockets"
#: Bound on the page showing what it should (the frontend loads, HA pushes states).
PAGE_S = 60.0
#: Bound on the story reaching the bedroom's arc (37 s at the test's pace, after HA listens).
STORY_S = 120.0
#: The Acknowledge rows on the dashboard (an entities card of buttons).
BUTTON_ROW = "hui-button-entity-row"
#: Home Assistant's connection in the page.
HASS = "document.querySelector('home-assistant')?.hass"


def _translations(language: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((TRANSLATIONS / f"{language}.json").read_text("utf-8"))
    return data


def _entity_name(language: str, platform: str, key: str) -> str:
    return str(_translations(language)["entity"][platform][key]["name"])


def _screenshot(driver: WebDriver, name: str) -> Path:
    path = SCREENSHOTS / f"{name}.png"
    assert driver.save_screenshot(str(path)), f"no screenshot written to {path}"
    print(f"screenshot: {path}")
    return path


def _call(driver: WebDriver, script: str, *args: Any) -> Any:
    """Run ``script`` (an async function body getting ``hass`` and ``args``) in the page,
    with the page's own authenticated connection to Home Assistant."""
    result = driver.execute_async_script(
        f"""
        const done = arguments[arguments.length - 1];
        const hass = {HASS};
        const args = [...arguments].slice(0, -1);
        (async () => {{ {script} }})().then(
          (value) => done({{ok: true, value}}),
          (error) => done({{ok: false, error: String(error?.message || JSON.stringify(error))}}),
        );
        """,
        *args,
    )
    assert result["ok"], f"in the page: {result['error']}"
    return result.get("value")


def _open_dashboard(driver: WebDriver, demo: Demo) -> None:
    driver.get(demo.dashboard)
    wait_for(
        driver,
        f"return {HASS}?.connected && location.pathname === arguments[0]",
        urlsplit(demo.dashboard).path,
        timeout=PAGE_S,
        what="the dashboard, connected",
    )
    wait_for_element(driver, "hui-todo-list-card", timeout=PAGE_S, what="the hazards list")


@pytest.fixture(scope="module")
def logged_in(demo: Demo, browser: WebDriver) -> Iterator[WebDriver]:
    """The owner, logged in through the login page, on the dashboard."""
    browser.get(demo.dashboard)
    # Nobody is logged in: the frontend sends the browser to Home Assistant's login page.
    username = wait_for_element(
        browser, "input[autocomplete=username]", timeout=PAGE_S, what="the login form"
    )
    assert "/auth/authorize" in browser.current_url, browser.current_url
    username.send_keys(demo.username)
    password = wait_for_element(browser, "input[autocomplete=current-password]")
    password.send_keys(demo.password)
    password.send_keys(Keys.ENTER)
    user = wait_for(
        browser,
        f"return !location.pathname.startsWith('/auth/') && {HASS}?.connected && {HASS}.user",
        timeout=PAGE_S,
        what="Home Assistant's frontend, logged in",
    )
    assert user["name"] == "Demo owner", user
    _open_dashboard(browser, demo)
    yield browser


async def test_the_dashboard_shows_alarms_first_and_acknowledge_names_the_owner(
    demo: Demo, logged_in: WebDriver
) -> None:
    driver = logged_in
    # The arc the story leaves for a person: its Acknowledge row appears in the first
    # section, with the detector's name.
    row = wait_for_element(
        driver,
        BUTTON_ROW,
        text=BEDROOM_NAME,
        timeout=STORY_S,
        what="the bedroom's Acknowledge button on the dashboard",
    )
    acknowledge_name = _entity_name("en", "button", "acknowledge")
    assert acknowledge_name in page_text(driver, row)
    # What is wrong comes first: the alarm's tile, named with its detector (the rooms'
    # tiles name the entity alone, under the detector's heading).
    alarm = find(driver, "hui-tile-card", text=BEDROOM_NAME)
    assert alarm is not None, page_text(driver)
    _screenshot(driver, "dashboard-en-alarm")

    (hazard,) = demo.bridge_get(f"hazards?device_id={BEDROOM}")["hazards"]
    assert hazard["state"] == "open" and hazard["acknowledged"] is None, hazard

    button = wait_for_element(driver, "ha-button, mwc-button, button", within=row)
    button.click()

    async def acknowledged() -> bool:
        record = await asyncio.to_thread(demo.bridge_get, f"hazards/{hazard['id']}")
        return record["acknowledged"] is not None

    await wait_until(acknowledged, timeout=30, interval=0.2, what="the bridge's record")
    record = demo.bridge_get(f"hazards/{hazard['id']}")
    assert record["state"] == "acknowledged", record
    # Who: Home Assistant, and the person who pressed the button.
    assert "Demo owner" in record["acknowledged"]["who"], record
    # Nothing left to acknowledge on the bedroom detector: its row leaves the dashboard.
    wait_for_element_gone(
        driver,
        BUTTON_ROW,
        text=BEDROOM_NAME,
        timeout=PAGE_S,
        what="the bedroom's Acknowledge row to go",
    )


@pytest.mark.parametrize("language", ["en", "zh-Hans", "ja"])
def test_the_dashboard_in_each_language(demo: Demo, logged_in: WebDriver, language: str) -> None:
    driver = logged_in
    # Home Assistant's language names the entities: the integration is reloaded so they
    # take the new one (Settings → System → General, then the integration's Reload).
    _call(
        driver,
        """
        const [language] = args;
        await hass.callWS({type: 'config/core/update', language});
        const domain = 'electrical_safety';
        for (const entry of await hass.callWS({type: 'config_entries/get', domain})) {
          await hass.callApi('POST', `config/config_entries/entry/${entry.entry_id}/reload`);
        }
        """,
        language,
    )
    # The profile's language, as the profile page's picker sets it.
    driver.execute_script(
        "document.querySelector('home-assistant').dispatchEvent("
        "new CustomEvent('hass-language-select', {detail: arguments[0]}))",
        language,
    )
    wait_for(
        driver,
        f"return {HASS}?.language === arguments[0]",
        language,
        timeout=PAGE_S,
        what=f"the frontend in {language}",
    )
    _open_dashboard(driver, demo)
    expected = [
        _entity_name(language, "sensor", "open_hazards"),
        _entity_name(language, "sensor", "unacknowledged_alarms"),
    ]
    wait_for_text(driver, *expected, timeout=PAGE_S, what=f"the dashboard's names in {language}")
    _screenshot(driver, f"dashboard-{language}")
    if language != "en":
        english = _entity_name("en", "sensor", "open_hazards")
        assert english not in page_text(driver), f"English left in the {language} dashboard"
