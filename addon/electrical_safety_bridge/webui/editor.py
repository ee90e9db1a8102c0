"""The profile editor: list profiles, edit one, check it as ``profile check`` does, try it on a
live unit (read only), and save it to the user profile folder.

Every check goes through :func:`~..profiles.loader.load_profile_text`, the loader the bridge
and the command line use, so the page shows the very lines ``profile check`` prints. A try
reads each value's registers through the backend's ``read_registers`` (the bus's lowest
priority, never a write) and decodes them with the profile codec.

Saving writes only a profile that passes the check, always as ``verified: false``: the
profile format has no place to record who verified a map and when, so a person's
confirmations are kept as a comment in the file and the bridge keeps the profile read-only
until someone sets ``verified: true`` by hand. The file is written beside its final name and
renamed into place, so a failed write (disk full, no permission) leaves the old file whole.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from ..api.backend import BridgeBackend
from ..common.enums import ChannelKind
from ..errors import (
    BusBusy,
    BusError,
    DeviceException,
    DeviceTimeout,
    ProfileError,
    ProfileIncomplete,
)
from ..profiles.codec import decode
from ..profiles.loader import CatalogueEntry, catalogue, load_profile_text, user_entries
from ..profiles.metadata import KIND_HINTS
from ..profiles.model import Profile, RegisterSpec
from ..validation import YamlProblems, yaml_text
from . import views
from .access import Visitor
from .i18n import Translator

#: A user profile's file name: a plain name in the folder, read by the loader (``*.yaml``).
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\.ya?ml$")
#: The top-level ``verified:`` line, which a save sets to false.
_VERIFIED_LINE = re.compile(r"^verified[ \t]*:[ \t]*[^\s#]*", re.MULTILINE)
#: The comment block a save writes with the person's confirmations (replaced on each save).
_RECORD_START = "# --- confirmed in the web UI's profile editor"
_RECORD_END = "# --- end of confirmations"
_RECORD = re.compile(
    "\n*" + re.escape(_RECORD_START) + r".*?" + re.escape(_RECORD_END) + r"[^\n]*\n?", re.DOTALL
)
#: Tries remembered per person, so that a save can record what was read.
_TRIES_KEPT = 8
_GROUP_ORDER = ("user", "template", "builtin", "simulated")


# --------------------------------------------------------------------------- checking


@dataclass(frozen=True)
class Problem:
    """One line of ``profile check``, and its parts for the page."""

    line: str
    path: str
    reason: str
    value: str | None
    #: The line of the text the key path leads to (1-based), where the editor jumps.
    at_line: int | None = None


@dataclass(frozen=True)
class CheckResult:
    """What ``profile check`` says of a text: the profile, or its problems."""

    origin: str
    profile: Profile | None
    problems: tuple[Problem, ...] = ()
    template: bool = False  # valid but with fields to fill from the manual

    @property
    def ok(self) -> bool:
        return self.profile is not None


_GOT = re.compile(r"^(?P<reason>.*) \(got (?P<value>.*)\)$")


def split_problem(line: str) -> Problem:
    """A problem line as ``key path: reason (got value)``, in its parts."""
    path, separator, rest = line.partition(": ")
    if not separator:
        path, rest = "", line
    got = _GOT.match(rest)
    if got is None:
        return Problem(line, path, rest, None)
    return Problem(line, path, got["reason"], got["value"])


_PATH_PART = re.compile(r"\[(\d+)\]|([A-Za-z_][A-Za-z0-9_]*)")
_AT_LINE = re.compile(r"^line (\d+), column \d+$")
#: The key an entry has, named after its index in a path: ``channels[3] (temperature_1)``.
_ENTRY_LABEL = re.compile(r" \([^)]*\)")


def line_of(root: yaml.Node | None, path: str) -> int | None:
    """The line (1-based) of the key ``path`` names in a composed YAML text, or of the
    nearest entry above it when the key is missing (a required key); None when unknown."""
    at = _AT_LINE.match(path)
    if at is not None:
        return int(at[1])
    line = None
    node = root
    for number, name in _PATH_PART.findall(_ENTRY_LABEL.sub("", path)):
        if isinstance(node, yaml.SequenceNode) and number and int(number) < len(node.value):
            node = node.value[int(number)]
        elif isinstance(node, yaml.MappingNode) and name:
            pair = next((p for p in node.value if getattr(p[0], "value", None) == name), None)
            if pair is None:
                break
            line = pair[0].start_mark.line + 1
            node = pair[1]
            continue
        else:
            break
        line = node.start_mark.line + 1
    return line


def _composed(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, ValueError, RecursionError):
        return None


def check_text(text: str, origin: str) -> CheckResult:
    """Check a profile's text with the bridge's own loader (``profile check``)."""
    try:
        profile = load_profile_text(text, origin)
    except ProfileError as exc:
        root = _composed(text)
        problems = []
        for line in exc.problems:
            problem = split_problem(line)
            problems.append(dataclasses.replace(problem, at_line=line_of(root, problem.path)))
        return CheckResult(
            origin, None, tuple(problems), template=isinstance(exc, ProfileIncomplete)
        )
    return CheckResult(origin, profile)


def check_bytes(data: bytes, origin: str) -> tuple[str, CheckResult]:
    """An uploaded file's text and its check (a file that is not UTF-8 text says so)."""
    try:
        text = yaml_text(data)
    except YamlProblems as exc:
        return "", CheckResult(origin, None, tuple(split_problem(p) for p in exc.problems))
    return text, check_text(text, origin)


# --------------------------------------------------------------------------- listing


@dataclass(frozen=True)
class Listed:
    """A profile file as the page lists it."""

    id: str  # ``group/file name``: what ``?open=`` names
    entry: CatalogueEntry

    @property
    def path(self) -> Path:
        return Path(self.entry.origin)

    @property
    def name(self) -> str:
        return self.path.name


def listing(profile_dir: Path | None) -> list[Listed]:
    """Every profile file: the user's, then the templates, built-ins and simulator maps.

    Built-ins are listed from the catalogue without a user folder, so that one a user file
    overrides is still shown (the page says which user file overrides it).
    """
    entries = catalogue(None) + user_entries(profile_dir)
    listed = [Listed(f"{e.group}/{Path(e.origin).name}", e) for e in entries]
    return sorted(listed, key=lambda i: (_GROUP_ORDER.index(i.entry.group), i.entry.model))


def builtin_models() -> dict[str, str]:
    """The built-in profiles' models (case folded) and their files."""
    return {e.model.casefold(): Path(e.origin).name for e in catalogue(None)}


# --------------------------------------------------------------------------- saving


class SaveRefused(Exception):
    """A save that did not happen; ``file`` is the file it was for, ``key`` the reason's
    text in the catalogue (``editor.save.<key>``) and ``values`` its placeholders."""

    def __init__(self, file: str, key: str, **values: object) -> None:
        self.file = file
        self.key = key
        self.values = values
        super().__init__(f"{file}: {key} {values}")


def unverified(text: str) -> str:
    """The text with its top-level ``verified:`` set to false (an edited map never writes)."""
    return _VERIFIED_LINE.sub("verified: false", text, count=1)


def with_record(text: str, record: str | None) -> str:
    """The text with its confirmation comment replaced by ``record`` (or removed)."""
    kept = _RECORD.sub("\n", text).rstrip("\n") + "\n"
    return kept if record is None else kept + "\n" + record


def standing_record(text: str) -> str | None:
    """The text's confirmation comment if it still describes the map (the map's digest in
    it matches); None when there is none or the map changed since."""
    found = _RECORD.search(text)
    if found is None or f"map: sha256 {map_digest(text)}\n" not in found[0]:
        return None
    return found[0].strip("\n") + "\n"


def save_profile(
    folder: Path | None,
    name: str,
    text: str,
    *,
    original: str = "",
    record: str | None = None,
) -> tuple[Path, Profile]:
    """Write ``text`` as ``folder/name``, unverified; raise :class:`SaveRefused` saying why not.

    ``record`` is a new confirmation comment; without one, the text's own is kept while it
    still describes the map, and dropped once the map changed.
    ``original`` is the user file being edited (empty for a new one): it may be overwritten,
    any other existing file may not. Only a profile that passes the check is saved, and its
    model may be neither a built-in's (it would silently replace that map for every device
    using it) nor another user file's (the loader would then refuse both).
    """
    if folder is None:
        raise SaveRefused("", "no_folder")
    if not _FILE_NAME.match(name):
        raise SaveRefused(str(folder / name) if "/" not in name else name, "bad_name")
    path = folder / name
    text = with_record(unverified(text), record or standing_record(text))
    result = check_text(text, str(path))
    if result.profile is None:
        raise SaveRefused(str(path), "invalid", count=len(result.problems))
    if result.profile.verified:  # a verified: line the rewrite could not reach
        raise SaveRefused(str(path), "verified")
    model = result.profile.model
    builtin = builtin_models().get(model.casefold())
    if builtin is not None:
        raise SaveRefused(str(path), "builtin_model", model=model, builtin=builtin)
    for entry in user_entries(folder):
        other = Path(entry.origin).name
        if other != name and entry.claims(model):
            raise SaveRefused(str(path), "user_model", model=model, other=other)
    if name != original and path.exists():
        raise SaveRefused(str(path), "exists")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _write_whole(path, text.encode("utf-8"))
    except OSError as exc:
        raise SaveRefused(str(path), "write_failed", reason=exc.strerror or str(exc)) from None
    return path, result.profile


def _write_whole(path: Path, data: bytes) -> None:
    """Write beside ``path`` and rename into place: the old file stays whole on a failure.

    The part file's name ends in ``.part``, which the loader does not read.
    """
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with part.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        part.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            part.unlink()
        raise


# --------------------------------------------------------------------------- trying


@dataclass(frozen=True)
class TriedValue:
    """One channel or setpoint of a tried profile, as read from the unit."""

    key: str
    name: str
    kind: str
    setpoint: bool
    spec: RegisterSpec
    unit: str | None
    registers: tuple[int, ...] | None  # None when the read failed
    value: float | int | str | None = None
    fault: str | None = None
    error: str | None = None  # the catalogue key of why it could not be read
    error_values: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Tried:
    """A try: where, when, and every value."""

    digest: str
    bus: str
    unit: int
    at: float
    values: tuple[TriedValue, ...]


class TryFailed(Exception):
    """The try could not read at all: the bus is down, busy, or unknown."""

    def __init__(self, key: str, **values: object) -> None:
        self.key = key
        self.values = values
        super().__init__(key)


def map_digest(text: str) -> str:
    """What identifies a map: its text without the confirmations and ``verified:`` value
    (a save changes only those, so a try still describes the saved map)."""
    return hashlib.sha256(with_record(unverified(text), None).encode("utf-8")).hexdigest()


async def try_profile(
    bridge: BridgeBackend, profile: Profile, text: str, bus: str, unit: int
) -> Tried:
    """Read every channel and setpoint of ``profile`` from ``unit`` on ``bus`` and decode it.

    Each distinct register span is read once (bitfields share their word), at the bus's
    lowest priority. A value whose read fails carries the reason; a bus that cannot read at
    all raises :class:`TryFailed`.
    """
    items = [(c, False) for c in profile.channels] + [(s, True) for s in profile.setpoints]
    answers: dict[tuple[int, int], tuple[int, ...] | _Unread] = {}
    silent: _Unread | None = None
    values: list[TriedValue] = []
    for item, is_setpoint in items:
        spec = item.register
        assert spec.address is not None  # a profile that loaded has every address
        span = (spec.address, spec.width)
        if span not in answers:
            # A unit that did not answer is not asked again in this try: each question
            # would wait its whole timeout on the line for nothing.
            answer = silent or await _read(bridge, profile.read_function, bus, unit, span)
            if isinstance(answer, _Unread) and answer.error == "editor.try.timeout":
                silent = answer
            answers[span] = answer
        got = answers[span]
        value = TriedValue(item.key, item.name, str(item.kind), is_setpoint, spec, item.unit, None)
        if isinstance(got, _Unread):
            values.append(dataclasses.replace(value, error=got.error, error_values=got.values))
            continue
        reading = decode(spec, list(got))
        values.append(
            dataclasses.replace(value, registers=got, value=reading.value, fault=reading.fault)
        )
    return Tried(map_digest(text), bus, unit, time.time(), tuple(values))


@dataclass(frozen=True)
class _Unread:
    """Why a register span could not be read (a catalogue key and its placeholders)."""

    error: str
    values: Mapping[str, object]


async def _read(
    bridge: BridgeBackend, function: int, bus: str, unit: int, span: tuple[int, int]
) -> tuple[int, ...] | _Unread:
    address, count = span
    try:
        return tuple(await bridge.read_registers(bus, unit, function, address, count))
    except KeyError:
        raise TryFailed("editor.try.no_bus", bus=bus) from None
    except BusBusy:
        raise TryFailed("editor.try.busy", bus=bus) from None
    except BusError:
        raise TryFailed("editor.try.bus_down", bus=bus) from None
    except DeviceException as exc:
        return _Unread("editor.try.exception", {"unit": unit, "code": f"{exc.exception_code:02X}"})
    except DeviceTimeout:
        return _Unread("editor.try.timeout", {"unit": unit, "code": ""})
    except ValueError as exc:
        return _Unread("editor.try.outside", {"unit": unit, "code": str(exc)})


def value_labels(t: Translator, values: tuple[TriedValue, ...]) -> dict[str, str]:
    """Each value's name as the devices page gives it: a measurement or setpoint by its kind,
    in the page's language; a diagnostic (a status flag, an input) by the profile's own name;
    and the profile's name too where two values would otherwise read the same."""
    by_kind: dict[str, str] = {}
    for v in values:
        if v.setpoint:
            by_kind[v.key] = views.setpoint_label(t, v.key, v.kind, v.name)
        elif KIND_HINTS[ChannelKind(v.kind)].diagnostic:
            by_kind[v.key] = v.name
        else:
            by_kind[v.key] = views.channel_label(t, v.key, v.kind, v.name)
    seen = Counter(by_kind.values())
    return {v.key: by_kind[v.key] if seen[by_kind[v.key]] == 1 else v.name for v in values}


def confirmation_record(
    tried: Tried, confirmed: Mapping[str, str], who: str, at: float
) -> str | None:
    """The comment a save writes when every value of the try was confirmed; None otherwise.

    ``confirmed`` is what the person typed the device's display shows, by key (possibly
    empty), for each value they ticked.
    """
    if not tried.values or any(v.key not in confirmed for v in tried.values):
        return None
    when = datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")
    read_at = datetime.fromtimestamp(tried.at, UTC).isoformat(timespec="seconds")
    lines = [
        f"{_RECORD_START} by {_one_line(who)} at {when}:",
        f"# every value below was read from unit {tried.unit} on bus {_one_line(tried.bus)}"
        f" at {read_at} and confirmed against the device's display. The profile format has",
        "# no place to record who verified a map, so it stays verified: false (read-only);",
        "# set verified: true by hand once you are sure, to let the bridge write.",
        f"#   map: sha256 {tried.digest}",
    ]
    for value in tried.values:
        raw = " ".join(f"0x{word:04X}" for word in value.registers or ())
        shown = _one_line(confirmed[value.key]) or "(not typed)"
        lines.append(
            f"#   {value.key}: {_shown(value)} (registers {raw or 'unread'}); display: {shown}"
        )
    lines.append(_RECORD_END)
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())[:80]


def _shown(value: TriedValue) -> str:
    if value.fault is not None:
        return f"fault {value.fault}"
    if value.value is None:
        return "unread"
    number = f"{value.value:g}" if isinstance(value.value, float) else str(value.value)
    return f"{number} {value.unit}" if value.unit else number


# --------------------------------------------------------------------------- routes


class ProfileEditor:
    """The editor's state: the folder it saves to and each person's recent tries."""

    def __init__(self, bridge: BridgeBackend) -> None:
        self.bridge = bridge
        self._tries: dict[str, dict[str, Tried]] = {}

    @property
    def folder(self) -> Path | None:
        return self.bridge.profile_dir

    def remember(self, visitor: Visitor, tried: Tried) -> None:
        kept = self._tries.setdefault(visitor.who, {})
        kept.pop(tried.digest, None)
        kept[tried.digest] = tried
        while len(kept) > _TRIES_KEPT:
            kept.pop(next(iter(kept)))

    def tried(self, visitor: Visitor, text_digest: str) -> Tried | None:
        return self._tries.get(visitor.who, {}).get(text_digest)


EDITOR: web.AppKey[ProfileEditor] = web.AppKey("profile_editor")


def _editor(request: web.Request) -> ProfileEditor:
    return request.app[EDITOR]


def _origin(folder: Path | None, name: str) -> str:
    """The file a text's problems are about: where it will be saved (as the CLI names it)."""
    if folder is not None and _FILE_NAME.match(name):
        return str(folder / name)
    return name or "profile.yaml"


def _suggested_name(model: str) -> str:
    stem = re.sub(r"[^a-z0-9]+", "_", model.casefold()).strip("_") or "profile"
    return f"{stem.removesuffix('_template')}.yaml"


async def _page(request: web.Request, visitor: Visitor) -> dict[str, Any]:
    editor = _editor(request)
    listed = listing(editor.folder)
    opened = next((i for i in listed if i.id == request.query.get("open")), None)
    text, name, original = "", "", ""
    result = None
    if opened is not None:
        if opened.entry.group == "user":
            name = original = opened.name
        else:
            name = _suggested_name(opened.entry.model)
        origin = _origin(editor.folder, name)
        try:
            text, result = check_bytes(opened.path.read_bytes(), origin)
        except OSError as exc:  # gone since it was listed, or unreadable
            problem = split_problem(f"cannot read: {exc.strerror or exc}")
            result = CheckResult(origin, None, (problem,))
    overridden = {i.entry.model.casefold(): i.name for i in listed if i.entry.group == "user"}
    buses = [bus["id"] for bus in editor.bridge.info()["buses"]]
    return {
        "page_name": "profiles",
        "listed": listed,
        "overridden": overridden,
        "opened": opened,
        "text": text,
        "name": name,
        "original": original,
        "folder": str(editor.folder) if editor.folder is not None else None,
        "result": result,
        "buses": buses,
        "tried": None,
        "try_error": None,
        "labels": {},
    }


profiles_page = views.page("profiles.html", _page)


async def _form(request: web.Request) -> Mapping[str, Any]:
    return await request.post()


def _field(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def _check(request: web.Request, visitor: Visitor) -> web.StreamResponse:
    """Live validation: the ``check`` part of the page for the posted text."""
    editor = _editor(request)
    form = await _form(request)
    result = check_text(_field(form, "text"), _origin(editor.folder, _field(form, "name")))
    return _part(request, visitor, "check", result=result)


async def _upload(request: web.Request, visitor: Visitor) -> web.StreamResponse:
    """An uploaded file: its text (to put in the editor) and its check, as JSON."""
    editor = _editor(request)
    form = await _form(request)
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        raise web.HTTPBadRequest(text="no file")
    name = Path(upload.filename or "profile.yaml").name
    text, result = check_bytes(upload.file.read(), _origin(editor.folder, name))
    check = _part(request, visitor, "check", result=result)
    assert isinstance(check, web.Response) and check.text is not None
    return web.json_response({"name": name, "text": text, "check": check.text})


async def _try(request: web.Request, visitor: Visitor) -> web.StreamResponse:
    """Read the edited profile's values from a live unit: the ``tried`` part."""
    editor = _editor(request)
    form = await _form(request)
    text = _field(form, "text")
    result = check_text(text, _origin(editor.folder, _field(form, "name")))
    bus = _field(form, "bus")
    unit_text = _field(form, "unit")
    tried: Tried | None = None
    error: tuple[str, Mapping[str, object]] | None = None
    if result.profile is None:
        error = ("editor.try.not_valid", {})
    elif not unit_text.isdigit() or not 1 <= int(unit_text) <= 247:
        error = ("editor.try.bad_unit", {"unit": unit_text})
    else:
        try:
            tried = await try_profile(editor.bridge, result.profile, text, bus, int(unit_text))
        except TryFailed as exc:
            error = (exc.key, exc.values)
        else:
            editor.remember(visitor, tried)
    labels = value_labels(Translator(views.language_of(request)[0]), tried.values if tried else ())
    return _part(request, visitor, "tried", tried=tried, try_error=error, labels=labels)


async def _save(request: web.Request, visitor: Visitor) -> web.StreamResponse:
    """Save to the user folder; the answer is a sentence naming the file, and the text saved."""
    editor = _editor(request)
    t = Translator(views.language_of(request)[0])
    form = await _form(request)
    text = _field(form, "text")
    name = _field(form, "name").strip()
    record = None
    tried = editor.tried(visitor, map_digest(text))
    try:
        confirmed = json.loads(_field(form, "confirmed") or "{}")
    except json.JSONDecodeError:
        confirmed = {}
    if tried is not None and isinstance(confirmed, dict):
        typed = {str(k): str(v) for k, v in confirmed.items()}
        record = confirmation_record(tried, typed, visitor.who, time.time())
    try:
        path, profile = save_profile(
            editor.folder, name, text, original=_field(form, "original"), record=record
        )
    except SaveRefused as exc:
        return web.json_response(
            {"ok": False, "message": t(f"editor.save.{exc.key}", file=exc.file, **exc.values)}
        )
    saved = path.read_text(encoding="utf-8")
    message = t("editor.saved", file=str(path), model=profile.model)
    message += " " + t("editor.saved_confirmed" if record else "editor.saved_unconfirmed")
    return web.json_response({"ok": True, "message": message, "text": saved, "name": path.name})


def _part(request: web.Request, visitor: Visitor, part: str, **values: Any) -> web.StreamResponse:
    """One block of the page, rendered as the page renders it (``?part=`` of a POST)."""
    editor = _editor(request)
    context: dict[str, Any] = {
        "page_name": "profiles",
        "listed": [],
        "overridden": {},
        "opened": None,
        "text": "",
        "name": "",
        "original": "",
        "folder": str(editor.folder) if editor.folder is not None else None,
        "result": None,
        "buses": [],
        "tried": None,
        "try_error": None,
        "labels": {},
        **values,
    }
    return views.render_part(request, visitor, "profiles.html", part, **context)


check = views.guarded(_check)
upload = views.guarded(_upload)
try_live = views.guarded(_try)
save = views.guarded(_save)


def add_routes(app: web.Application, bridge: BridgeBackend) -> None:
    """The editor's page and actions."""
    app[EDITOR] = ProfileEditor(bridge)
    router = app.router
    router.add_get("/profiles", profiles_page)
    router.add_post("/profiles/check", check)
    router.add_post("/profiles/upload", upload)
    router.add_post("/profiles/try", try_live)
    router.add_post("/profiles/save", save)


def groups() -> Iterable[str]:
    """The listing's groups, in order (for the template)."""
    return _GROUP_ORDER
