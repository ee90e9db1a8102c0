"""Debian's Chromium under Selenium: tests that look at a page as a person does.

The browser and its driver come from apt (``chromium``, ``chromium-driver``; ``.ci/run``
installs them with ``fonts-noto-cjk``, which renders Chinese and Japanese), never from a
download: Selenium is given both paths, so its driver manager never runs.

Web components (Home Assistant's frontend, for one) keep their content in nested shadow
roots, out of reach of CSS selectors and XPath. ``find`` and ``page_text`` search through
every open shadow root, and ``wait_for`` polls a condition in the page with a bound, so a
test waits for what it expects and never sleeps.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
#: Headless, and nothing that reaches past the machine (updates, sync, QUIC probes).
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)
#: Seconds between two looks at the page while waiting.
POLL_S = 0.1

# Every element under ``root``, through the shadow roots of its descendants. Defined in each
# script (execute_script runs each in a fresh function), so each can be run on its own.
_WALK = """
function* walk(root) {
  const stack = [root];
  while (stack.length) {
    const node = stack.pop();
    if (node.shadowRoot) stack.push(node.shadowRoot);
    for (let child = node.lastElementChild; child; child = child.previousElementSibling) {
      stack.push(child);
    }
    if (node.nodeType === Node.ELEMENT_NODE) yield node;
  }
}
function deepText(root) {
  const parts = [];
  const visit = (node) => {
    if (node.nodeType === Node.TEXT_NODE) { parts.push(node.data); return; }
    if (node.nodeType !== Node.ELEMENT_NODE && node.nodeType !== Node.DOCUMENT_FRAGMENT_NODE
        && node.nodeType !== Node.DOCUMENT_NODE) return;
    if (node.nodeType === Node.ELEMENT_NODE
        && ['STYLE', 'SCRIPT', 'TEMPLATE'].includes(node.tagName)) return;
    if (node.shadowRoot) visit(node.shadowRoot);
    for (const child of node.childNodes) visit(child);
    if (node.nodeType === Node.ELEMENT_NODE && ['INPUT', 'TEXTAREA'].includes(node.tagName)) {
      parts.push(node.value || node.placeholder || '');
    }
  };
  visit(root);
  return parts.join(' ').replace(/\\s+/g, ' ');
}
"""

_FIND = (
    _WALK
    + """
const [selector, text, within] = arguments;
const root = within || document;
for (const element of walk(root)) {
  if (element.matches(selector) && (text === null || deepText(element).includes(text))) {
    return element;
  }
}
return null;
"""
)

_PAGE_TEXT = _WALK + "return deepText(arguments[0] || document);"


class ChromiumMissing(RuntimeError):
    """Debian's Chromium or its driver is not installed."""


@contextlib.contextmanager
def chromium(
    window: tuple[int, int] = (1280, 1024), *, language: str = "en-US"
) -> Iterator[WebDriver]:
    """A headless Chromium with a fresh profile, closed on leaving.

    ``window`` is the size of the window in CSS pixels (screenshots are that size);
    ``language`` is what the browser asks pages for (``Accept-Language``).
    """
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        raise ChromiumMissing(
            f"{' and '.join(missing)} not found: install Debian's packages with "
            "`apt-get install chromium chromium-driver fonts-noto-cjk` (.ci/run does)"
        )
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        options = Options()
        options.binary_location = str(CHROMIUM)
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--window-size={window[0]},{window[1]}")
        options.add_argument(f"--user-data-dir={profile}")
        options.add_argument(f"--lang={language}")
        options.add_experimental_option("prefs", {"intl.accept_languages": language})
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        try:
            yield driver
        finally:
            driver.quit()


def find(
    driver: WebDriver, selector: str, *, text: str | None = None, within: WebElement | None = None
) -> WebElement | None:
    """The first element matching ``selector`` in the page (or under ``within``), shadow
    roots included, whose text (its shadow content included) contains ``text``."""
    found = driver.execute_script(_FIND, selector, text, within)
    return found if isinstance(found, WebElement) else None


def page_text(driver: WebDriver, within: WebElement | None = None) -> str:
    """All the text of the page (or of ``within``) with its shadow roots, as one line."""
    return str(driver.execute_script(_PAGE_TEXT, within))


def wait_for(
    driver: WebDriver, script: str, *args: Any, timeout: float = 30.0, what: str = ""
) -> Any:
    """Run ``script`` (JavaScript whose ``return`` is the condition; ``arguments`` are
    ``args``) until it returns something true, and return that; fail after ``timeout``
    seconds, naming ``what`` and the page's address."""
    try:
        return WebDriverWait(driver, timeout, poll_frequency=POLL_S).until(
            lambda d: d.execute_script(script, *args)
        )
    except TimeoutException:
        raise AssertionError(
            f"not within {timeout} s: {what or script} (page {driver.current_url})"
        ) from None


def wait_for_element(
    driver: WebDriver,
    selector: str,
    *,
    text: str | None = None,
    within: WebElement | None = None,
    timeout: float = 30.0,
    what: str = "",
) -> WebElement:
    """``find`` once the element is there; fail after ``timeout`` seconds."""
    found = wait_for(
        driver,
        _FIND,
        selector,
        text,
        within,
        timeout=timeout,
        what=what or f"{selector!r}" + (f" with {text!r}" if text else ""),
    )
    assert isinstance(found, WebElement)
    return found


def wait_for_text(driver: WebDriver, *texts: str, timeout: float = 30.0, what: str = "") -> None:
    """Until the page shows every one of ``texts``; fail after ``timeout`` seconds."""
    script = _PAGE_TEXT.replace(
        "return deepText(arguments[0] || document);",
        "const text = deepText(document); return arguments.length > 0"
        " && [...arguments].every((t) => text.includes(t));",
    )
    wait_for(driver, script, *texts, timeout=timeout, what=what or f"the page to show {texts}")
