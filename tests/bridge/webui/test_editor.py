"""The profile editor's check and save, without a browser: the same messages as ``profile
check``, and a save that names its file on every refusal and never loses what was there."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import resource
import signal
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from electrical_safety_bridge import cli
from electrical_safety_bridge.profiles.loader import find_profile
from electrical_safety_bridge.webui.editor import (
    SaveRefused,
    Tried,
    TriedValue,
    check_bytes,
    check_text,
    confirmation_record,
    map_digest,
    save_profile,
    split_problem,
    value_labels,
    with_record,
)
from electrical_safety_bridge.webui.i18n import Translator

from .conftest import LiveBridge

PROFILES = Path(__file__).resolve().parents[3] / "addon" / "electrical_safety_bridge" / "profiles"
SIM_AAFD = (PROFILES / "simulated" / "sim_aafd.yaml").read_text(encoding="utf-8")
#: The simulator's AAFD map under a model name of the user's own, unverified.
MINE = SIM_AAFD.replace("model: SIM-AAFD", "model: My AAFD").replace(
    "verified: true", "verified: false"
)
TEMPLATE = (PROFILES / "templates" / "acrel_aafd_template.yaml").read_text(encoding="utf-8")
BROKEN = MINE.replace("kind: arc_count", "kind: arc_counter").replace(
    "address: 0x0011", "address: 0x10000"
)


def _cli_problems(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    status = cli.main(["profile", "check", str(path)])
    lines = capsys.readouterr().err.splitlines()
    return status, [line.strip() for line in lines[1:]]


@pytest.mark.parametrize(
    "text",
    [
        BROKEN,
        "manufacturer: [unclosed\n",  # not YAML
        MINE.replace("  - key: fault\n", "  - key: fault\n    key: fault_again\n"),  # twice
        TEMPLATE,
        "- a list\n",
    ],
    ids=["bad-values", "bad-yaml", "duplicate-key", "template", "not-a-mapping"],
)
def test_the_editor_shows_exactly_what_profile_check_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(text, encoding="utf-8")
    status, printed = _cli_problems(path, capsys)
    result = check_text(text, str(path))
    assert status == 1 and not result.ok
    assert [problem.line for problem in result.problems] == printed
    assert all(problem.path for problem in result.problems)


def test_a_bad_value_is_shown_with_its_key_path_reason_and_value() -> None:
    result = check_text(BROKEN, "/config/profiles/mine.yaml")
    by_path = {problem.path: problem for problem in result.problems}
    kind = by_path["channels[4].kind"]
    assert kind.value == "'arc_counter'" and kind.reason.startswith("value must be one of")
    address = by_path["channels[4].address"]
    assert (address.reason, address.value) == ("must be between 0 and 0xFFFF", "65536")
    # Each problem knows the line its key is on, for the editor to show it.
    lines = BROKEN.splitlines()
    assert lines[address.at_line - 1] == "    address: 0x10000"  # type: ignore[operator]
    assert lines[kind.at_line - 1] == "    kind: arc_counter"  # type: ignore[operator]
    syntax = check_text("a: [\n", "x.yaml").problems[0]
    assert syntax.path == "line 2, column 1" and syntax.at_line == 2
    assert split_problem("line 2, column 1: not valid YAML: x").path == "line 2, column 1"


def test_an_upload_that_is_not_utf8_says_so_as_profile_check_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = "manufacturer: Acrel\nmodel: 漏电\n".encode("gb18030")
    path = tmp_path / "gbk.yaml"
    path.write_bytes(data)
    _, printed = _cli_problems(path, capsys)
    text, result = check_bytes(data, str(path))
    assert text == "" and [problem.line for problem in result.problems] == printed
    assert printed[0].startswith("cannot read: not UTF-8 text")


# --------------------------------------------------------------------------- saving


def test_a_save_lands_in_the_user_folder_unverified_and_loads_there(tmp_path: Path) -> None:
    folder = tmp_path / "profiles"  # made on the first save
    verified = MINE.replace("\nverified: false\n", "\nverified: true  # checked it\n")
    path, profile = save_profile(folder, "my_aafd.yaml", verified)
    assert path == folder / "my_aafd.yaml" and not profile.verified
    saved = path.read_text(encoding="utf-8")
    assert re.findall(r"^verified:.*$", saved, re.MULTILINE) == ["verified: false  # checked it"]
    # The person's comments stay: the text is saved as typed, only verified changes.
    assert saved.startswith("# SIMULATOR MAP, NOT AN ACREL MAP.")
    assert find_profile("My AAFD", folder).verified is False
    assert sorted(p.name for p in folder.iterdir()) == ["my_aafd.yaml"]  # no part file left


@pytest.mark.parametrize(
    ("name", "text", "key", "file"),
    [
        ("../escape.yaml", MINE, "bad_name", "../escape.yaml"),
        ("mine.txt", MINE, "bad_name", "{folder}/mine.txt"),
        ("mine.yaml", BROKEN, "invalid", "{folder}/mine.yaml"),
        ("asj.yaml", SIM_AAFD.replace("verified: true", "verified: false"), "builtin_model", ""),
        ("other.yaml", MINE, "user_model", "{folder}/other.yaml"),
        ("taken.yaml", MINE.replace("My AAFD", "Another"), "exists", "{folder}/taken.yaml"),
        ("aafd.yaml", TEMPLATE.replace("AAFD (template)", "AAFD"), "invalid", "{folder}/aafd.yaml"),
    ],
    ids=[
        "path",
        "suffix",
        "invalid",
        "builtin-model",
        "second-file-for-a-model",
        "exists",
        "template",
    ],
)
def test_a_refused_save_names_the_file_and_leaves_the_folder_as_it_was(
    tmp_path: Path, name: str, text: str, key: str, file: str
) -> None:
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "mine.yaml").write_text(MINE, encoding="utf-8")
    (folder / "taken.yaml").write_text(MINE.replace("My AAFD", "Taken"), encoding="utf-8")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(SaveRefused) as refused:
        save_profile(folder, name, text, original="mine.yaml")
    assert refused.value.key == key
    assert refused.value.file == (file.format(folder=folder) or str(folder / name))
    if key == "builtin_model":
        assert refused.value.values == {"model": "SIM-AAFD", "builtin": "sim_aafd.yaml"}
    if key == "user_model":
        assert refused.value.values == {"model": "My AAFD", "other": "mine.yaml"}
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_the_file_being_edited_is_overwritten_and_keeps_its_model(tmp_path: Path) -> None:
    folder = tmp_path / "profiles"
    save_profile(folder, "mine.yaml", MINE)
    edited = MINE.replace("scale: 0.1", "scale: 0.01")
    path, profile = save_profile(folder, "mine.yaml", edited, original="mine.yaml")
    assert profile.channel("temperature").register.scale == 0.01
    assert path.read_text(encoding="utf-8") == edited


def test_a_folder_that_cannot_be_made_is_a_named_error(tmp_path: Path) -> None:
    blocker = tmp_path / "profiles"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    with pytest.raises(SaveRefused) as refused:
        save_profile(blocker / "sub", "mine.yaml", MINE)
    assert refused.value.key == "write_failed"
    assert refused.value.file == str(blocker / "sub" / "mine.yaml")
    assert refused.value.values["reason"]  # the system's words: "Not a directory"
    with pytest.raises(SaveRefused) as no_folder:
        save_profile(None, "mine.yaml", MINE)
    assert no_folder.value.key == "no_folder"


@contextlib.contextmanager
def _files_limited_to(size: int) -> Iterator[None]:
    """Writes past ``size`` bytes fail with EFBIG, as on a full disk (a real system limit on
    this process, not a mock); SIGXFSZ is ignored so that the write fails instead."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def test_a_write_that_fails_midway_keeps_the_old_file_whole(tmp_path: Path) -> None:
    folder = tmp_path / "profiles"
    save_profile(folder, "mine.yaml", MINE)
    longer = MINE + "# a long note\n" * 400
    with _files_limited_to(len(MINE) + 100), pytest.raises(SaveRefused) as refused:
        save_profile(folder, "mine.yaml", longer, original="mine.yaml")
    assert refused.value.key == "write_failed"
    assert refused.value.file == str(folder / "mine.yaml")
    assert "large" in str(refused.value.values["reason"])  # "File too large"
    assert (folder / "mine.yaml").read_text(encoding="utf-8") == MINE
    assert [p.name for p in folder.iterdir()] == ["mine.yaml"]


def _read_as(word: int) -> tuple[TriedValue, ...]:
    """Every channel of :data:`MINE` as a try would show it, each register holding ``word``."""
    profile = check_text(MINE, "mine.yaml").profile
    assert profile is not None
    return tuple(
        TriedValue(c.key, c.name, str(c.kind), False, c.register, c.unit, (word,), word)
        for c in profile.channels
    )


def test_confirmations_are_recorded_only_when_every_value_was_confirmed() -> None:
    values = _read_as(7)
    tried = Tried("digest", "line", 4, 0.0, values)
    every = {value.key: "7" for value in values}
    record = confirmation_record(tried, every, "Li\nLandlord", 86400.0)
    assert record is not None
    assert "by Li Landlord at 1970-01-02T00:00:00+00:00" in record
    assert "#   residual_current: 7 mA (registers 0x0007); display: 7" in record
    assert confirmation_record(tried, dict(list(every.items())[1:]), "Li", 0.0) is None
    # A second save replaces the record rather than adding another.
    once = with_record(MINE, record)
    assert with_record(once, record) == once
    assert check_text(once, "mine.yaml").ok


def test_a_record_stays_while_it_describes_the_map_and_goes_when_the_map_changes(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "profiles"
    values = _read_as(1)
    tried = Tried(map_digest(MINE), "line", 4, 0.0, values)
    record = confirmation_record(tried, {v.key: "1" for v in values}, "Li", 0.0)
    path, _ = save_profile(folder, "mine.yaml", MINE, record=record)
    saved = path.read_text(encoding="utf-8")
    assert record is not None and saved.endswith(record)
    # Saved again as it is (no new try): the record still describes the map, and stays.
    save_profile(folder, "mine.yaml", saved, original="mine.yaml")
    assert path.read_text(encoding="utf-8") == saved
    # The map changed: the record no longer describes it, and goes.
    changed = saved.replace("scale: 0.1", "scale: 0.01")
    save_profile(folder, "mine.yaml", changed, original="mine.yaml")
    assert "confirmed in the web UI" not in path.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- over HTTP


def _post(
    url: str, fields: dict[str, str], csrf: str | None, language: str = "en"
) -> tuple[int, str]:
    headers = {"Accept-Language": language, "Content-Type": "application/x-www-form-urlencoded"}
    if csrf is not None:
        headers["X-CSRF-Token"] = csrf
    body = urllib.parse.urlencode(fields).encode("utf-8")
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


@pytest.fixture
def blocked(tmp_path: Path, socket_enabled: None) -> Iterator[LiveBridge]:
    """A bridge whose user profile folder cannot be made: a file stands where it should be."""
    (tmp_path / "profiles").write_text("not a folder", encoding="utf-8")
    folder = tmp_path / "profiles" / "mine"
    with LiveBridge(tmp_path, ingress_proxy_address="127.0.0.1", profile_dir=folder) as running:
        yield running


def test_the_handlers_answer_with_named_problems_and_a_refused_save_loses_nothing(
    blocked: LiveBridge,
) -> None:
    assert blocked.ingress is not None
    base = blocked.ingress.url
    with urllib.request.urlopen(base + "/profiles", timeout=30) as answer:
        page = answer.read().decode("utf-8")
    found = re.search(r'data-csrf="([^"]+)"', page)
    assert found is not None
    csrf = found[1]
    folder = blocked.bridge.profile_dir
    assert folder is not None
    # Nothing is accepted without the page's CSRF token.
    assert _post(base + "/profiles/check", {"text": MINE}, None)[0] == 403
    assert _post(base + "/profiles/save", {"text": MINE, "name": "m.yaml"}, "forged")[0] == 403
    # Bad YAML: the line and column, and the file it is about.
    status, html = _post(base + "/profiles/check", {"text": "a: [\n", "name": "m.yaml"}, csrf)
    assert status == 200 and 'data-path="line 2, column 1"' in html
    assert str(folder / "m.yaml") in html
    # A bad key: its path and the value given.
    status, html = _post(base + "/profiles/check", {"text": BROKEN, "name": "m.yaml"}, csrf)
    assert 'data-path="channels[4].kind"' in html and "&#39;arc_counter&#39;" in html
    # A bad profile is not saved, and says which file in the page's language.
    status, body = _post(base + "/profiles/save", {"text": BROKEN, "name": "m.yaml"}, csrf, "ja")
    answer = json.loads(body)
    assert answer["ok"] is False and answer["message"].startswith("保存していません")
    assert str(folder / "m.yaml") in answer["message"]
    # The folder cannot be made: the file and the system's reason are named.
    status, body = _post(base + "/profiles/save", {"text": MINE, "name": "m.yaml"}, csrf)
    answer = json.loads(body)
    assert answer["ok"] is False
    assert answer["message"] == (
        f"Not saved: {folder / 'm.yaml'} could not be written (Not a directory). Nothing was"
        " changed: any earlier version is as it was, and your text is still in the editor."
    )
    assert (folder.parent).read_text(encoding="utf-8") == "not a folder"


def test_a_try_reads_each_value_and_names_what_could_not_be_read(blocked: LiveBridge) -> None:
    assert blocked.ingress is not None
    base = blocked.ingress.url
    with urllib.request.urlopen(base + "/profiles", timeout=30) as answer:
        found = re.search(r'data-csrf="([^"]+)"', answer.read().decode("utf-8"))
    assert found is not None
    csrf = found[1]
    sim_arcm = (PROFILES / "simulated" / "sim_arcm.yaml").read_text(encoding="utf-8")
    # Frequency placed on 0x000C, which the simulator's unit reserves (exception 02).
    text = (
        sim_arcm.replace("model: SIM-ARCM", "model: My ARCM")
        .replace("\nverified: true\n", "\nverified: false\n")
        .replace("address: 0x000B", "address: 0x000C")
    )
    fields = {"text": text, "name": "mine.yaml", "bus": "line", "unit": "1"}
    status, html = _post(base + "/profiles/try", fields, csrf)
    assert status == 200
    row = r'<tr class="tried-value" data-key="(\w+)" data-decoded="([^"]*)"'
    rows = dict(re.findall(row, html))
    live_value = blocked.run(lambda: blocked.sim.unit(1).get("residual_current").value)
    assert rows["residual_current"] == str(live_value) and rows["frequency"] == ""
    assert "unit 1 refused this register (Modbus exception 02)" in html
    # A silent unit: every value says so.
    status, html = _post(base + "/profiles/try", {**fields, "unit": "9"}, csrf)
    assert html.count("unit 9 did not answer") == len(re.findall("tried-value", html)) > 30
    status, html = _post(base + "/profiles/try", {**fields, "bus": "nope"}, csrf)
    assert "The bridge has no bus named nope." in html
    status, html = _post(base + "/profiles/try", {**fields, "unit": "0"}, csrf)
    assert "The unit must be a number from 1 to 247 (got 0)." in html
    # Nothing was written by any of it.
    assert blocked.run(lambda: blocked.sim.unit(1).command_log) == []


def test_tried_values_are_named_by_kind_unless_two_would_read_the_same() -> None:
    values = _read_as(0)
    labels = value_labels(Translator("zh-Hans"), values)
    assert labels["residual_current"] == "剩余电流" and labels["temperature"] == "温度"
    assert labels["arc_alarm"] == "Arc alarm"  # a status flag keeps the profile's own name
    twice = (values[0], dataclasses.replace(values[0], key="residual_current_2nd"))
    assert value_labels(Translator("ja"), twice) == {
        "residual_current": "Residual current",
        "residual_current_2nd": "Residual current",
    }
