"""The pages a person works in, in a real browser against a real bridge on the simulator:
the event log newest first with its CSV, setpoints, hazards and lock-outs on the devices
page, and the monthly report. Each saves a screenshot under ``.artifacts/webui/``.
"""

from __future__ import annotations

import csv
import io
import json
import socket
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.select import Select

from electrical_safety_bridge.common.enums import HazardState
from electrical_safety_bridge.relay.relay_settings import RelayConfig, WebhookSettings
from electrical_safety_bridge.report.model import previous_month
from electrical_safety_bridge.report.sources import report_zone
from electrical_safety_bridge.safety.events import BridgeEvent, EventType
from electrical_safety_bridge.webui import views
from electrical_safety_bridge.webui.i18n import Translator
from tests.chromium import wait_for, wait_for_element, wait_for_element_gone

from .conftest import LiveBridge, screenshot
from .ingress import PREFIX
from .test_pages import _click, _failed_requests, _log_in, _notice, _wait_live


def _switch_language(browser: WebDriver, language: str) -> None:
    Select(browser.find_element(By.ID, "language-switch")).select_by_value(language)
    wait_for(browser, f"return document.documentElement.lang === '{language}'")
    _wait_live(browser)


def _post(browser: WebDriver, path: str, fields: dict[str, str]) -> dict[str, Any]:
    """POST a form from the page as its script does (with the page's CSRF token)."""
    answer: dict[str, Any] = browser.execute_async_script(
        """const [path, fields, done] = arguments;
        const body = new FormData();
        for (const [name, value] of Object.entries(fields)) body.append(name, value);
        fetch(document.body.dataset.prefix + path, {method: "POST", body,
              headers: {"X-CSRF-Token": document.body.dataset.csrf}})
          .then(r => r.json()).then(done);""",
        path,
        fields,
    )
    return answer


def _type(browser: WebDriver, selector: str, text: str) -> None:
    """Type ``text`` into the field ``selector`` names. Focused first, in one step: the live
    part it is in may be swapped in at any moment, but not while a field of it is focused."""
    wait_for_element(browser, selector)
    browser.execute_script(
        "const field = document.querySelector(arguments[0]); field.value = ''; field.focus()",
        selector,
    )
    browser.switch_to.active_element.send_keys(text)


def _act(browser: WebDriver, selector: str) -> str:
    """Press the button ``selector`` names; the page's answer (a new one, not the last)."""
    browser.execute_script(
        "const n = document.getElementById('notice'); n.hidden = true; n.textContent = '';"
    )
    _click(browser, selector)
    return _notice(browser)


def _shows(browser: WebDriver, sequences: list[int], what: str) -> None:
    """Until the log shows exactly ``sequences``, top to bottom."""
    wait_for(
        browser,
        "return [...document.querySelectorAll('table.events tbody tr td:first-child')]"
        ".map(cell => cell.textContent.trim()).join(',') === arguments[0]",
        ",".join(str(seq) for seq in sequences),
        what=what,
    )


def test_the_event_log_reads_newest_first_pages_both_ways_and_exports_the_same_filter(
    live: LiveBridge, browser: WebDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "EVENTS_PER_PAGE", 3)
    now = time.time()
    commands = [
        BridgeEvent(EventType.COMMAND, now - 60 + i, device_id="asj", data={"command": "mute"})
        for i in range(7)
    ]
    others = [BridgeEvent(EventType.COMMAND, now - 30, device_id="arcm", data={"command": "mute"})]
    stored = live.call(live.bridge.store.append_many(commands + others))  # type: ignore[attr-defined]
    wanted = [e.seq for e in stored[:7]][::-1]  # asj's, newest first
    _log_in(browser, live, "/events?device=asj&type=command&period=1h")
    _shows(browser, wanted[:3], "the newest page")
    assert not browser.find_elements(By.CSS_SELECTOR, "a[rel=prev], a[rel=first]")
    screenshot(browser, "events-newest-first-en")
    # Older, and older again, keeping the filters; then back to newer and the newest.
    for page in (wanted[3:6], wanted[6:]):
        _click(browser, "a[rel=next]")
        wait_for(browser, "return location.search.includes('before=')")
        _shows(browser, page, "an older page")
        assert "device=asj" in browser.current_url and "type=command" in browser.current_url
    assert not browser.find_elements(By.CSS_SELECTOR, "a[rel=next]")
    _click(browser, "a[rel=prev]")
    wait_for(browser, "return location.search.includes('after=')")
    _shows(browser, wanted[3:6], "the newer page")
    _click(browser, "a[rel=first]")
    wait_for(browser, "return !location.search.includes('after=')")
    _shows(browser, wanted[:3], "the newest page again")
    # The CSV holds the same filter: every one of asj's commands in the period, none else.
    link = browser.find_element(By.CSS_SELECTOR, "a[download]").get_attribute("href")
    assert link is not None
    session = browser.get_cookie("esb_session")
    assert session is not None
    request = urllib.request.Request(link, headers={"Cookie": f"esb_session={session['value']}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        rows = list(csv.DictReader(io.StringIO(answer.read().decode("utf-8"))))
    assert sorted(int(r["seq"]) for r in rows) == sorted(wanted)
    assert {(r["device_id"], r["type"]) for r in rows} == {("asj", "command")}
    # Live: an alarm raised now appears at the top of the first page, without a reload.
    browser.get(live.url + "/events?device=asj")
    _wait_live(browser)
    browser.execute_script("window.notReloaded = true")
    live.run(lambda: live.sim.unit(2).set("alarm_status", "alarm"))
    wait_for_element(
        browser, 'table.events tbody tr[data-event-type="alarm_raised"]', what="the new alarm"
    )
    # At the top with what it caused (its hazard), above the commands stored before.
    shown = browser.execute_script(
        "return [...document.querySelectorAll('table.events tbody tr')]"
        ".map(row => [Number(row.cells[0].textContent), row.dataset.eventType])"
    )
    assert [seq for seq, _ in shown] == sorted((seq for seq, _ in shown), reverse=True)
    assert shown[0][0] > wanted[0] and "alarm_raised" in [kind for _, kind in shown[:2]]
    assert browser.execute_script("return window.notReloaded") is True
    assert _failed_requests(browser) == []
    screenshot(browser, "events-live-en")


def test_a_setpoint_written_from_the_devices_page_is_read_back(
    live: LiveBridge, browser: WebDriver
) -> None:
    assert live.ingress is not None
    browser.get(live.ingress.url + "/devices")
    _wait_live(browser)
    field = '#device-arcm tr[data-setpoint="alarm_delay"] input[name=value]'
    wait_for_element(browser, field)
    limits = browser.execute_script(
        "const field = document.querySelector(arguments[0]); return [field.min, field.max]", field
    )
    assert limits == ["0", "30"]
    # Live updates of the card wait while the person types, so the typed value stays.
    _type(browser, field, "2.5")
    live.run(lambda: live.sim.unit(1).set("residual_current", 77))
    live.wait(
        lambda: live.bridge.device("arcm")["values"]["residual_current"] == 77, "the new value"
    )
    assert browser.find_element(By.CSS_SELECTOR, field).get_attribute("value") == "2.5"
    notice = _act(browser, '#device-arcm tr[data-setpoint="alarm_delay"] button')
    assert notice == ("ARCM: Alarm delay is now 2.5 s, confirmed by reading the device back.")
    assert live.run(lambda: live.sim.unit(1).get("alarm_delay").value) == 2.5
    wait_for_element(browser, '[data-setpoint-value="arcm/alarm_delay"]', text="2.5 s")
    # The same bounds as the API: out of range is refused, translated, and nothing written.
    answer = _post(
        browser, "/action/devices/arcm/setpoint", {"setpoint": "alarm_delay", "value": "45"}
    )
    assert answer == {
        "ok": False,
        "message": "ARCM: Alarm delay must be between 0 and 30 s; nothing was written.",
    }
    assert live.run(lambda: live.sim.unit(1).get("alarm_delay").value) == 2.5
    # An unverified profile never writes: no field to type in, and a post is refused.
    assert not browser.find_elements(By.CSS_SELECTOR, "#device-unverified form.setpoint")
    before = live.run(lambda: live.sim.unit(3).get("alarm_delay").value)
    answer = _post(
        browser, "/action/devices/unverified/setpoint", {"setpoint": "alarm_delay", "value": "3"}
    )
    assert answer == {
        "ok": False,
        "message": "UNVERIFIED uses an unverified profile, so the bridge never writes to it.",
    }
    assert live.run(lambda: live.sim.unit(3).get("alarm_delay").value) == before
    assert _failed_requests(browser) == []
    browser.execute_script("document.getElementById('device-arcm').scrollIntoView()")
    screenshot(browser, "devices-setpoint-ingress-en")
    # The event log names the setpoint and shows the change.
    browser.get(live.ingress.url + "/events?type=setpoint_changed")
    wait_for_element(
        browser, 'tr[data-event-type="setpoint_changed"]', text="Alarm delay", what="the change"
    )
    wait_for_element(browser, 'tr[data-event-type="setpoint_changed"]', text="0 → 2.5 s")
    screenshot(browser, "events-setpoint-ingress-en")


@pytest.mark.parametrize("language", ["en", "zh-Hans", "ja"])
def test_a_hazard_is_followed_to_its_end_and_a_lock_out_holds_the_breaker_open(
    live: LiveBridge, browser: WebDriver, language: str
) -> None:
    t = Translator(language)
    _log_in(browser, live, "/devices")
    _switch_language(browser, language)
    arcm = live.sim.unit(1)
    live.run(lambda: arcm.set("residual_current", 480))
    hazard = "#device-arcm .hazard"
    wait_for_element(browser, hazard, text=t("hazard.open"), what="the new hazard")
    # Eliminating reads the device afresh: the condition is still there, so it is refused.
    note = f'{hazard} input[name="note"]'
    _type(browser, note, "RCD replaced")
    notice = _act(browser, f"{hazard} form.eliminate button")
    assert notice == views.refusal_text(t, "condition_persists", "ARCM")
    screenshot(browser, f"devices-hazard-refused-{language}")
    # The cause removed and the detector reset: close is still refused until acknowledged.
    live.run(lambda: arcm.set("residual_current", 20))
    live.call(live.bridge.buses["line"].command("arcm", "reset", who="electrician"))
    live.wait(lambda: not any(a.active for a in live.bridge.alarms.open_alarms("arcm")), "reset")
    notice = _act(browser, '#device-arcm form[data-action] input[value="close"] ~ button')
    assert notice.startswith(views.refusal_text(t, "alarm_unacknowledged", "ARCM"))
    if language != "en":
        assert notice != views.refusal_text(Translator("en"), "alarm_unacknowledged", "ARCM")
    assert "close" not in [str(c) for c in live.run(lambda: arcm.command_log)]
    screenshot(browser, f"devices-close-refused-{language}")
    # Acknowledged, then eliminated with a note: the hazard leaves the card.
    notice = _act(browser, f'{hazard} form[action$="/acknowledge"] button')
    assert notice == t("action.acknowledged")
    wait_for_element(browser, hazard, text=t("hazard.acknowledged"))
    _type(browser, note, "RCD replaced")
    notice = _act(browser, f"{hazard} form.eliminate button")
    assert notice == t("devices.hazard_eliminated", device="ARCM")
    wait_for_element_gone(browser, hazard)
    (eliminated,) = live.run(lambda: live.bridge.hazard_list(HazardState.ELIMINATED, "arcm"))
    assert eliminated["note"] == "RCD replaced"
    assert eliminated["eliminated"]["who"] == "web UI (token)"
    # A lock-out: who, why, until; close is refused while it holds; lifted from the page.
    why = '#device-arcm form.lock input[name="why"]'
    wait_for_element(browser, why)
    _type(browser, why, "replacing the RCD")
    browser.execute_script(  # chosen while the reason's field holds the card still
        "document.querySelector('#device-arcm select[name=\"until\"]').value = '1h'"
    )
    notice = _act(browser, "#device-arcm form.lock button")
    assert notice == t("devices.locked_out_done", device="ARCM")
    lockout = live.run(lambda: live.bridge.device("arcm")["lockout"])
    assert lockout["who"] == "web UI (token)" and lockout["why"] == "replacing the RCD"
    assert 3500 < lockout["until"] - time.time() <= 3600
    wait_for_element(browser, "#device-arcm .lockout", text="replacing the RCD")
    screenshot(browser, f"devices-locked-out-{language}")
    notice = _act(browser, '#device-arcm form[data-action] input[value="close"] ~ button')
    assert notice.startswith(views.refusal_text(t, "locked_out", "ARCM"))
    notice = _act(browser, '#device-arcm form[action$="/lockout/lift"] button')
    assert notice == t("devices.lockout_lifted", device="ARCM")
    assert live.run(lambda: live.bridge.device("arcm")["lockout"]) is None
    assert _failed_requests(browser) == []


@pytest.mark.parametrize("language", ["en", "zh-Hans", "ja"])
def test_the_reports_page_shows_the_month_under_ingress_and_offers_pdf_and_json(
    live: LiveBridge, browser: WebDriver, language: str
) -> None:
    assert live.ingress is not None
    live.run(lambda: live.sim.unit(2).set("alarm_status", "alarm"))  # something to report
    live.wait(lambda: bool(live.bridge.hazard_list(device_id="asj")), "the hazard")
    browser.get(live.ingress.url + "/reports")
    _wait_live(browser)
    if language != "en":
        _switch_language(browser, language)
    # Offered: this month so far, then the months before; shown first: the last whole month,
    # the report API's own default.
    zone, _ = report_zone()
    period = Select(browser.find_element(By.NAME, "period"))
    months = [option.get_attribute("value") for option in period.options]
    assert months[1] == previous_month(time.time(), zone)
    current = months[0]
    assert browser.find_element(By.NAME, "period").get_attribute("value") == months[1]
    Select(browser.find_element(By.NAME, "period")).select_by_value(str(current))
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    wait_for(browser, f"return location.search.includes('period={current}')")
    wait_for(browser, "return document.body.dataset.reportLoaded === '1'", what="the report")
    shown = browser.execute_script(
        "const d = document.querySelector('iframe[data-report]').contentDocument;"
        " return [d.documentElement.lang, d.title, d.body.innerText]"
    )
    assert str(current) in shown[1] and "ASJ" in shown[2]  # the hazard's device
    assert shown[0].lower().startswith(language.lower()[:2])
    urls = browser.execute_script(
        "return [...document.querySelectorAll('a[href], iframe[src], form[action]')]"
        ".map(e => e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('action'))"
    )
    assert all(url.startswith(PREFIX + "/") for url in urls), urls
    assert _failed_requests(browser) == []
    screenshot(browser, f"reports-{language}")
    if language != "en":
        return
    # The downloads are the report API's own answers, through the web UI's guard.
    got = browser.execute_async_script(
        """const done = arguments[arguments.length - 1];
        const links = [...document.querySelectorAll('a[data-format]')];
        Promise.all(links.filter(a => a.dataset.format !== 'html').map(async a => {
          const r = await fetch(a.href);
          const bytes = new Uint8Array(await r.arrayBuffer());
          return [a.dataset.format, r.status, r.headers.get('content-type'),
                  new TextDecoder().decode(a.dataset.format === 'pdf' ? bytes.slice(0, 8) : bytes)];
        })).then(done);"""
    )
    by_format = {fmt: (status, kind, start) for fmt, status, kind, start in got}
    status, kind, start = by_format["pdf"]
    assert (status, kind, start[:5]) == (200, "application/pdf", "%PDF-")
    status, kind, text = by_format["json"]
    assert (status, kind) == (200, "application/json; charset=utf-8")
    assert json.loads(text)["period"]["label"] == current


class _Webhook(BaseHTTPRequestHandler):
    """A landlord's webhook endpoint: takes every delivery."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the test reads the bridge, not this log


def test_the_overview_shows_each_relay_destination_with_its_queue_deliveries_and_errors(
    tmp_path: Path, browser: WebDriver, socket_enabled: None
) -> None:
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Webhook)
    threading.Thread(target=receiver.serve_forever, name="webhook", daemon=True).start()
    with socket.socket() as closed:  # a port nothing listens on: every delivery fails
        closed.bind(("127.0.0.1", 0))
        dead_port = closed.getsockname()[1]
    relay = RelayConfig(
        webhooks=(
            WebhookSettings("landlord", f"http://127.0.0.1:{receiver.server_port}/h", "s" * 32),
            WebhookSettings("insurer", f"http://127.0.0.1:{dead_port}/h", "s" * 32),
        ),
        retry_max=1.0,
    )
    try:
        with LiveBridge(tmp_path, ingress_proxy_address="127.0.0.1", relay=relay) as live:
            assert live.ingress is not None
            browser.get(live.ingress.url + "/")
            _wait_live(browser)
            wait_for_element(
                browser, 'tr[data-sink="webhook:landlord"]', text="Delivering", timeout=60
            )
            wait_for_element(
                browser, 'tr[data-sink="webhook:insurer"]', text="Retrying", timeout=60
            )
            delivered = browser.execute_script(
                "const row = document.querySelector('tr[data-sink=\"webhook:landlord\"]');"
                " return [row.cells[3].textContent.trim(), row.cells[4].textContent.trim()]"
            )
            assert int(delivered[0]) > 0 and delivered[1] not in ("", "—")
            failing = browser.find_element(By.CSS_SELECTOR, 'tr[data-sink="webhook:insurer"]')
            assert int(failing.find_elements(By.TAG_NAME, "td")[1].text) > 0  # waiting
            screenshot(browser, "overview-relay-en")
            browser.get("about:blank")  # the page's WebSocket closes before the bridge stops
    finally:
        receiver.shutdown()
        receiver.server_close()
