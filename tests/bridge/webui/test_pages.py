"""The web UI in a real browser (Debian's Chromium), against a real bridge on the simulator.

Each test saves a screenshot under ``.artifacts/webui/`` for a person to look at.
"""

from __future__ import annotations

import csv
import io
import urllib.request

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.select import Select

from electrical_safety_bridge.webui import views
from tests.chromium import chromium, wait_for, wait_for_element, wait_for_text

from .conftest import LiveBridge, screenshot
from .ingress import PREFIX


def _log_in(browser: WebDriver, live: LiveBridge, path: str = "/") -> None:
    browser.get(live.url + path)
    wait_for_element(browser, "input#token")
    browser.find_element(By.ID, "token").send_keys(live.bridge.token)
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    _wait_live(browser)
    if path != "/":
        browser.get(live.url + path)
        _wait_live(browser)


def _wait_live(browser: WebDriver) -> None:
    wait_for(browser, "return document.body.dataset.connected === '1'", what="the live link")


def _failed_requests(browser: WebDriver) -> list[str]:
    """Every resource the page loaded that answered 4xx/5xx."""
    return list(
        browser.execute_script(
            "return performance.getEntriesByType('resource')"
            ".filter(e => e.responseStatus >= 400).map(e => e.name + ' ' + e.responseStatus)"
        )
    )


def _click(browser: WebDriver, selector: str) -> None:
    """Click the element ``selector`` names, found at the moment of the click (live parts
    replace their elements whenever the bridge pushes a change)."""
    wait_for_element(browser, selector)
    browser.execute_script("document.querySelector(arguments[0]).click()", selector)


def _notice(browser: WebDriver) -> str:
    element = wait_for_element(browser, "#notice:not([hidden])", what="the notice")
    return str(element.text)


def test_pages_under_the_ingress_prefix_load_every_asset_and_record_the_ingress_user(
    live: LiveBridge, browser: WebDriver
) -> None:
    assert live.ingress is not None
    for path in ("/", "/devices", "/events"):
        browser.get(live.ingress.url + path)
        _wait_live(browser)
        assert _failed_requests(browser) == [], path
        urls = browser.execute_script(
            "return [...document.querySelectorAll("
            "'a[href], link[href], script[src], form[action]')]"
            ".map(e => e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('action'))"
        )
        # Every URL the page writes is under the ingress prefix: none leaves the panel.
        assert urls and all(url.startswith(PREFIX + "/") for url in urls), (path, urls)
    # An alarm appears without a reload, and the acknowledgement names the ingress user.
    browser.get(live.ingress.url + "/")
    _wait_live(browser)
    browser.execute_script("window.notReloaded = true")
    live.run(lambda: live.sim.unit(2).set("alarm_status", "alarm"))
    wait_for_element(browser, 'tr.alarm[data-device="asj"]', what="the injected alarm")
    screenshot(browser, "overview-ingress-alarm-en")
    _click(browser, 'tr.alarm[data-device="asj"] button')
    assert _notice(browser) == "Acknowledged and recorded."
    wait_for_text(browser, "Acknowledged by Li Landlord")
    assert browser.execute_script("return window.notReloaded") is True
    (alarm,) = live.run(lambda: live.bridge.alarms.open_alarms("asj"))
    assert alarm.acknowledged_by == "Li Landlord"
    screenshot(browser, "overview-ingress-acknowledged-en")


@pytest.mark.parametrize(("language", "text"), [("zh-Hans", "当前报警"), ("ja", "発生中の警報")])
def test_under_ingress_the_panel_follows_home_assistants_language(
    live: LiveBridge, browser: WebDriver, language: str, text: str
) -> None:
    assert live.ingress is not None
    browser.get(f"{live.ingress.frontend}?lang={language}")
    browser.switch_to.frame(browser.find_element(By.ID, "panel"))
    wait_for(browser, f"return document.documentElement.lang === '{language}'")
    _wait_live(browser)
    wait_for_text(browser, text)
    browser.switch_to.default_content()
    screenshot(browser, f"overview-ingress-{language}")


def test_a_value_changed_on_the_device_shows_without_a_reload(
    live: LiveBridge, browser: WebDriver
) -> None:
    _log_in(browser, live, "/devices")
    browser.execute_script("window.notReloaded = true")
    value = '[data-value="arcm/residual_current"]'
    live.run(lambda: live.sim.unit(1).set("residual_current", 123))
    wait_for(
        browser,
        f"return document.querySelector('{value}').textContent.trim() === '123 mA'",
        what="the new residual current",
    )
    assert browser.execute_script("return window.notReloaded") is True
    assert _failed_requests(browser) == []
    screenshot(browser, "devices-en")


def test_an_alarm_is_acknowledged_from_the_overview_with_a_token_login(
    live: LiveBridge, browser: WebDriver
) -> None:
    _log_in(browser, live)
    live.run(lambda: live.sim.unit(1).set("residual_current", 480))
    row = 'tr.alarm[data-device="arcm"]'
    wait_for_element(browser, row, text="Not acknowledged", what="the residual-current alarm")
    _click(browser, row + " button")
    assert _notice(browser) == "Acknowledged and recorded."
    (alarm,) = live.run(lambda: live.bridge.alarms.open_alarms("arcm"))
    assert alarm.acknowledged_by == "web UI (token)"
    wait_for_text(browser, "Acknowledged by web UI (token)")


@pytest.mark.parametrize(
    ("language", "refusal", "reason"),
    [
        ("en", "ARCM: the breaker stays open because an alarm is still active.", "alarm active"),
        ("zh-Hans", "ARCM：报警仍处于激活状态，断路器保持分闸。", "报警仍激活"),
        ("ja", "ARCM：警報がまだ発生中のため、ブレーカーは開いたままです。", "警報発生中"),
    ],
)
def test_a_refused_close_shows_the_reason_in_the_pages_language(
    live: LiveBridge, browser: WebDriver, language: str, refusal: str, reason: str
) -> None:
    _log_in(browser, live, "/devices")
    Select(browser.find_element(By.ID, "language-switch")).select_by_value(language)
    wait_for(browser, f"return document.documentElement.lang === '{language}'")
    _wait_live(browser)
    live.run(lambda: live.sim.unit(1).set("residual_current", 480))
    live.wait(lambda: bool(live.bridge.alarms.open_alarms("arcm")), "the alarm")
    _click(browser, '#device-arcm form[data-action] input[value="close"] ~ button')
    assert _notice(browser).startswith(refusal)
    assert live.run(lambda: live.sim.unit(1).command_log) == []
    screenshot(browser, f"devices-refused-close-{language}")
    # An unverified profile never writes: the page offers no command and says why, and a
    # trip posted all the same is refused, in the same language.
    # (A lock-out is the bridge's own interlock, not a write: it is offered.)
    assert not browser.find_elements(
        By.CSS_SELECTOR, "#device-unverified :is(.commands, .setpoints) form[data-action]"
    )
    explained = browser.find_element(By.CSS_SELECTOR, "#device-unverified .unverified").text
    answer = browser.execute_async_script(
        """const done = arguments[arguments.length - 1];
        const body = new FormData(); body.append("command", "trip");
        fetch("/action/devices/unverified/command", {method: "POST", body,
              headers: {"X-CSRF-Token": document.body.dataset.csrf}})
          .then(r => r.json()).then(done);"""
    )
    assert answer["ok"] is False and answer["message"].startswith("UNVERIFIED ")
    assert answer["message"] != explained
    assert live.run(lambda: live.sim.unit(3).command_log) == []
    # The event log shows the refused close, its reason in the same language.
    browser.get(live.url + "/events?type=command")
    wait_for_element(browser, 'tr[data-event-type="command"]', text=reason, what="the close")
    screenshot(browser, f"events-refused-close-{language}")


@pytest.mark.parametrize(
    ("accept", "texts"),
    [
        ("en-GB,en;q=0.9", ("Active alarms", "Buses", "Bridge version")),
        ("zh-CN,zh;q=0.9", ("当前报警", "总线", "桥接程序版本")),
        ("ja-JP,ja;q=0.9", ("発生中の警報", "バス", "ブリッジのバージョン")),
    ],
)
def test_each_language_renders_from_the_browsers_language(
    live: LiveBridge, socket_enabled: None, accept: str, texts: tuple[str, ...]
) -> None:
    language = {"en": "en", "zh": "zh-Hans", "ja": "ja"}[accept[:2]]
    with chromium(window=(1280, 1000), language=accept) as browser:
        _log_in(browser, live)
        wait_for_text(browser, *texts)
        assert browser.execute_script("return document.documentElement.lang") == language
        screenshot(browser, f"overview-{language}")
        browser.get(live.url + "/devices")
        _wait_live(browser)
        screenshot(browser, f"devices-{language}")
        browser.get(live.url + "/events")
        _wait_live(browser)
        wait_for_element(browser, "table.events")
        screenshot(browser, f"events-{language}")


def test_the_event_log_filters_pages_and_exports_csv(
    live: LiveBridge, browser: WebDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "EVENTS_PER_PAGE", 4)  # a few alarms fill two pages
    asj = live.sim.unit(2)
    for _ in range(6):
        live.run(lambda: asj.set("alarm_status", "alarm"))
        live.wait(lambda: bool(live.bridge.alarms.open_alarms("asj")), "the alarm")
        (alarm,) = live.run(lambda: live.bridge.alarms.open_alarms("asj"))
        live.call(live.bridge.acknowledge(alarm.id, "test", "test"))
        live.run(lambda: asj.set("alarm_status", "normal"))
        live.wait(lambda: not live.bridge.alarms.open_alarms("asj"), "the alarm closed")
    _log_in(browser, live, "/events")
    Select(browser.find_element(By.NAME, "device")).select_by_value("asj")
    Select(browser.find_element(By.NAME, "type")).select_by_value("alarm_raised")
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    wait_for(browser, "return location.search.includes('type=alarm_raised')")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.events tbody tr")
    assert [r.get_attribute("data-event-type") for r in rows] == ["alarm_raised"] * 4
    screenshot(browser, "events-filtered-en")
    browser.find_element(By.CSS_SELECTOR, "a[rel=next]").click()
    wait_for(browser, "return location.search.includes('before=')")  # older
    rest = browser.find_elements(By.CSS_SELECTOR, "table.events tbody tr")
    assert [r.get_attribute("data-event-type") for r in rest] == ["alarm_raised"] * 2
    assert not browser.find_elements(By.CSS_SELECTOR, "a[rel=next]")
    link = browser.find_element(By.CSS_SELECTOR, "a[download]").get_attribute("href")
    assert link is not None
    session = browser.get_cookie("esb_session")
    assert session is not None
    request = urllib.request.Request(link, headers={"Cookie": f"esb_session={session['value']}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        rows_csv = list(csv.DictReader(io.StringIO(answer.read().decode("utf-8"))))
    assert [(r["device_id"], r["type"]) for r in rows_csv] == [("asj", "alarm_raised")] * 6
