"""The register explorer: its decodings against the profile codec, its proposals read back by
the profile loader, and the page in Debian's Chromium against a bridge on the simulator,
under an ingress-like path prefix, in each language (a screenshot of each).
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.select import Select

from electrical_safety_bridge.common.enums import CommandName
from electrical_safety_bridge.profiles.codec import decode, encode
from electrical_safety_bridge.profiles.loader import load_profile_text
from electrical_safety_bridge.profiles.model import RegisterSpec, RegisterType, WordOrder
from electrical_safety_bridge.webui.explorer import (
    PAIR_DECODINGS,
    ExplorerProblem,
    ReadRange,
    changes,
    number_text,
    pair_rows,
    propose,
    register_rows,
)
from electrical_safety_bridge.webui.i18n import LANGUAGES, Translator
from tests.chromium import wait_for, wait_for_element

from .conftest import LiveBridge, screenshot

# --------------------------------------------------------------------------- pure part


def test_each_register_and_pair_is_shown_as_the_codec_reads_it() -> None:
    registers = [0x0000, 0x00FA, 0xFFFF, *encode(RegisterSpec(0, RegisterType.F32), 12.5)]
    rows = register_rows(0x10, registers, [])
    assert [(r.address, r.raw, r.s16, r.hex) for r in rows[:3]] == [
        (0x10, 0, 0, "0x0000"),
        (0x11, 250, 250, "0x00FA"),
        (0x12, 65535, -1, "0xFFFF"),
    ]
    assert rows[1].bits == "0000 0000 1111 1010"
    pairs = pair_rows(0x10, registers, [])
    assert len(pairs) == len(registers) - 1
    for pair in pairs:
        words = list(pair.registers)
        expected = tuple(
            number_text(decode(RegisterSpec(pair.address, kind, order), words).value)
            for kind, order in PAIR_DECODINGS
        )
        assert pair.values == expected
    # 0x00FA 0xFFFF: high word first is 0x00FAFFFF; low word first is 0xFFFF00FA (s32 -65286).
    by_decoding = dict(zip(PAIR_DECODINGS, pairs[1].values, strict=True))
    assert by_decoding[(RegisterType.U32, WordOrder.BIG)] == str(0x00FAFFFF)
    assert by_decoding[(RegisterType.S32, WordOrder.LITTLE)] == str(-65286)
    assert by_decoding[(RegisterType.U32, WordOrder.LITTLE)] == str(0xFFFF00FA)
    # The float is found in its own order, and its pair is unreadable (NaN) the other way.
    assert (
        dict(zip(PAIR_DECODINGS, pairs[3].values, strict=True))[(RegisterType.F32, WordOrder.BIG)]
        == "12.5"
    )


def test_changes_compare_only_the_registers_both_reads_cover() -> None:
    # 0x1F was read only before, 0x22 only now: neither is a change.
    found = changes(0x20, [1, 0, 5], 0x1F, [9, 0, 0])
    assert [(c.address, c.old, c.new) for c in found] == [(0x20, 0, 1)]
    assert [(c.address, c.old, c.new) for c in changes(0x20, [1, 0], 0x20, [0, 0])] == [
        (0x20, 0, 1)
    ]
    rows = register_rows(0x20, [1, 0], changes(0x20, [1, 0], 0x20, [0, 0]))
    assert [r.previous for r in rows] == [0, None]


def test_a_proposal_is_yaml_the_profile_loader_reads_to_the_value_shown() -> None:
    registers = encode(RegisterSpec(9, RegisterType.U32, WordOrder.LITTLE, scale=0.01), 1234.56)
    offered = propose(
        9,
        registers,
        register_type="u32",
        word_order="little",
        scale="0.01",
        key="energy",
        kind="energy",
        unit="kWh",
        name="Active energy",
        comment="From the register explorer",
    )
    assert offered.value == "1234.56 kWh"
    assert offered.yaml.startswith("  # From the register explorer\n  - key: energy\n")
    assert "    address: 0x0009\n" in offered.yaml
    assert "    word_order: little\n" in offered.yaml and "    scale: 0.01\n" in offered.yaml
    frame = (
        "manufacturer: M\nmodel: X\nkind: residual_current_detector\nmanual_version: '1'\n"
        "verified: false\nsource: s\nchannels:\n"
    )
    (channel,) = load_profile_text(frame + offered.yaml, "pasted").channels
    assert channel.register == RegisterSpec(9, RegisterType.U32, WordOrder.LITTLE, scale=0.01)
    assert decode(channel.register, registers).value == 1234.56
    # A 16-bit proposal has no word order, and a scale of 1 is not written.
    single = propose(
        0x20,
        [1],
        register_type="u16",
        word_order="big",
        scale="1",
        key="flags",
        kind="alarm_status",
    )
    assert "word_order" not in single.yaml and "scale" not in single.yaml
    assert single.value == "1"


@pytest.mark.parametrize(
    ("change", "key", "named"),
    [
        ({"scale": "0"}, "explorer.error.scale", "0"),
        ({"scale": "ten"}, "explorer.error.scale", "ten"),
        ({"key": "Energy"}, "explorer.error.key", "Energy"),
        ({"kind": "watts"}, "explorer.error.kind", "watts"),
        ({"register_type": "bitfield"}, "explorer.error.type", "bitfield"),
        ({"word_order": "middle"}, "explorer.error.word_order", "middle"),
    ],
)
def test_a_proposal_a_profile_would_refuse_is_named_in_each_language(
    change: dict[str, str], key: str, named: str
) -> None:
    choice = {
        "register_type": "u32",
        "word_order": "big",
        "scale": "1",
        "key": "energy",
        "kind": "energy",
    }
    with pytest.raises(ExplorerProblem) as refused:
        propose(0, [0, 1], **(choice | change))
    assert refused.value.key == key
    for language in LANGUAGES:
        assert named in Translator(language)(key, **refused.value.values)


def test_a_u32_needs_two_registers() -> None:
    with pytest.raises(ExplorerProblem) as refused:
        propose(0, [7], register_type="f32", word_order="big", scale="1", key="k", kind="power")
    assert refused.value.key == "explorer.error.selection"


@pytest.mark.parametrize(
    ("asked", "key", "named"),
    [
        ({"unit": 0}, "explorer.error.unit", "0"),
        ({"unit": 248}, "explorer.error.unit", "248"),
        ({"count": 126}, "explorer.error.count", "126"),
        ({"count": 0}, "explorer.error.count", "0"),
        ({"function": 6}, "explorer.error.function", "6"),
        ({"address": 70000}, "explorer.error.address", "70000"),
        ({"address": 0xFFF0, "count": 17}, "explorer.error.past_end", "0xFFF0"),
    ],
)
def test_a_range_outside_modbus_is_refused_naming_the_value(
    asked: dict[str, int], key: str, named: str
) -> None:
    fields = {"bus": "line", "unit": 1, "function": 3, "address": 0, "count": 10}
    with pytest.raises(ExplorerProblem) as refused:
        ReadRange(**(fields | asked))  # type: ignore[arg-type]
    assert refused.value.key == key
    for language in LANGUAGES:
        assert named in Translator(language)(key, **refused.value.values)


# --------------------------------------------------------------------------- the page


def test_explorer_actions_need_a_session_and_the_csrf_token(live: LiveBridge) -> None:
    body = json.dumps({"bus": "line", "unit": 1, "function": 3, "address": 0, "count": 1})
    for path in ("/explorer/read", "/explorer/propose"):
        request = urllib.request.Request(
            live.url + path,
            data=body.encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 401, path


def _set(browser: WebDriver, name: str, value: str, form: str = "explorer-read") -> None:
    browser.execute_script(
        "const field = document.getElementById(arguments[0]).elements[arguments[1]];"
        "field.value = arguments[2];"
        "field.dispatchEvent(new Event('change', {bubbles: true}));",
        form,
        name,
        value,
    )


def _notice(browser: WebDriver, containing: str) -> str:
    element = wait_for_element(browser, "#notice:not([hidden])", text=containing)
    return str(element.text)


def _read(browser: WebDriver, address: str, count: int) -> None:
    _set(browser, "address", address)
    _set(browser, "count", str(count))
    browser.execute_script("document.getElementById('explorer-read-button').click()")


def _pick(browser: WebDriver, selector: str) -> None:
    wait_for_element(browser, selector)
    browser.execute_script("document.querySelector(arguments[0]).click()", selector)


def _decoded(browser: WebDriver, expected: str, containing: str) -> str:
    """The proposal's YAML once it has ``containing`` (the last choice made) and the value
    shown beside it is ``expected``; looked at in one go, as each answer replaces both."""
    return str(
        wait_for(
            browser,
            "const shown = document.getElementById('explorer-decoded');"
            "const yaml = document.getElementById('explorer-yaml');"
            "return shown !== null && shown.textContent.trim() === arguments[0]"
            " && yaml.value.includes(arguments[1]) && yaml.value;",
            expected,
            containing,
            what=f"the proposal's decoded value {expected!r}",
        )
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_explorer_reads_watches_a_test_press_and_proposes_channels(
    live: LiveBridge, browser: WebDriver, language: str
) -> None:
    assert live.ingress is not None
    arcm = live.sim.unit(1)
    live.run(lambda: arcm.set("energy", 1234.56))
    live.wait(
        lambda: live.bridge.device("arcm")["values"].get("energy") == 1234.56,
        "the bridge's own reading of the energy",
    )
    browser.set_window_size(1280, 1500)  # the whole page, proposal included, in one screenshot
    browser.get(f"{live.ingress.url}/explorer?lang={language}")
    wait_for(browser, f"return document.documentElement.lang === '{language}'")
    wait_for(browser, "return document.body.dataset.connected === '1'", what="the live link")
    # Every URL the page writes stays under the ingress prefix.
    prefix = live.ingress.url.removeprefix(re.sub(r"(https?://[^/]+).*", r"\1", live.ingress.url))
    urls = browser.execute_script(
        "return [...document.querySelectorAll('a[href], link[href], script[src], form[action]')]"
        ".map(e => e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('action'))"
    )
    assert all(url.startswith(prefix + "/") for url in urls), urls
    Select(browser.find_element(By.ID, "explorer-known")).select_by_value("arcm")
    assert browser.find_element(By.NAME, "unit").get_attribute("value") == "1"

    # A range over the simulator's reserved register 0x000C: the unit's exception, in words.
    _read(browser, "0x0000", 16)
    assert "0x0000–0x000F" in _notice(browser, "02")

    # The measurements; the energy pair, picked as u32 high word first, proposes a channel
    # whose value is the bridge's own reading of that register through its profile.
    _read(browser, "0", 12)
    energy = 'td[data-pick="u32"][data-order="big"][data-address="9"]'
    _pick(browser, energy)
    _set(browser, "scale", "0.01", "explorer-propose")
    _set(browser, "unit_of_measure", "kWh", "explorer-propose")
    _set(browser, "kind", "energy", "explorer-propose")
    _set(browser, "key", "energy", "explorer-propose")
    bridge_value = live.run(lambda: live.bridge.device("arcm")["values"]["energy"])
    yaml_text = _decoded(browser, f"{number_text(bridge_value)} kWh", "key: energy")
    assert "address: 0x0009" in yaml_text and "type: u32" in yaml_text
    assert "scale: 0.01" in yaml_text and "kind: energy" in yaml_text
    screenshot(browser, f"explorer-pair-{language}")

    # Watch the alarm flags while the device's TEST button is pressed (the simulator's own
    # self-test, not a command of the bridge): the change is timed in the timeline and
    # highlighted in the table.
    _read(browser, "0x0020", 4)
    wait_for_element(browser, 'table.registers tr[data-register="32"]')
    browser.execute_script("document.getElementById('explorer-watch').click()")
    wait_for(
        browser,
        "return !document.getElementById('explorer-watching').hidden"
        " && /[1-9]/.test(document.getElementById('explorer-watching').textContent)",
        what="watch mode reading",
    )
    live.run(lambda: arcm.execute(CommandName.SELF_TEST))
    change = wait_for_element(
        browser, 'tr.change[data-address="32"][data-old="0"][data-new="1"]', what="the TEST press"
    )
    assert "0x0020" in change.text
    wait_for_element(browser, 'table.registers tr.changed[data-register="32"]')
    browser.execute_script("document.getElementById('explorer-watch').click()")
    wait_for(browser, "return document.getElementById('explorer-watching').hidden")
    assert live.run(lambda: arcm.command_log) == [CommandName.SELF_TEST]  # nothing written

    # The changed register, picked as u16, proposes an alarm-status channel reading its value.
    _pick(browser, 'td[data-pick="u16"][data-address="32"]')
    _set(browser, "kind", "alarm_status", "explorer-propose")
    _set(browser, "key", "residual_current_alarm", "explorer-propose")
    register = live.run(lambda: arcm.registers[0x20])
    yaml_text = _decoded(browser, str(register), "key: residual_current_alarm")
    assert "key: residual_current_alarm" in yaml_text and "address: 0x0020" in yaml_text
    screenshot(browser, f"explorer-{language}")

    # Through the same endpoint, a silent unit and a range outside Modbus are refused in the
    # page's language, each sentence naming the value.
    for asked, named in (
        ({"unit": 30}, "30"),
        ({"count": 200}, "200"),
        ({"bus": "attic"}, "attic"),
    ):
        answer = browser.execute_async_script(
            """const [asked, done] = [arguments[0], arguments[arguments.length - 1]];
            fetch(document.body.dataset.prefix + "/explorer/read", {method: "POST",
                  headers: {"Content-Type": "application/json",
                            "X-CSRF-Token": document.body.dataset.csrf},
                  body: JSON.stringify({bus: "line", unit: 1, function: 3, address: 0,
                                        count: 1, ...asked})})
              .then(r => r.json()).then(done);""",
            asked,
        )
        assert answer["ok"] is False and named in answer["message"], answer
        assert (
            answer["message"] == answer["message"].strip() and "explorer." not in answer["message"]
        )
