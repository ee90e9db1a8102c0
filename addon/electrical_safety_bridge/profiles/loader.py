"""Profile files: reading and validating them, and the catalogue that finds one by model.

Built-in profiles live in this package's YAML folders (``builtin/``, ``simulated/``,
``templates/``); user profiles in a folder of the user's. User profiles override built-ins by
model. A user file that cannot be loaded is never skipped with the built-in map running in
its place: resolving the model it claims raises its error, and a file whose model cannot be
read at all blocks every model (:class:`BrokenUserProfile`), because it may be the override of
any of them.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ..errors import ProfileError, ProfileIncomplete
from ..validation import YamlProblems, load_yaml, load_yaml_file, not_a_mapping
from .model import Profile, parse_profile


def load_profile_file(path: Path) -> Profile:
    """Read and validate one profile file; any problem is a ProfileError naming the file."""
    origin = str(path)
    try:
        data = load_yaml_file(path)
    except YamlProblems as exc:
        raise _yaml_error(exc, origin) from None
    return _parse_document(data, origin)


def load_profile_text(text: str, origin: str) -> Profile:
    """Parse YAML text and validate it as a profile."""
    try:
        data = load_yaml(text)
    except YamlProblems as exc:
        raise _yaml_error(exc, origin) from None
    return _parse_document(data, origin)


def _parse_document(data: Any, origin: str) -> Profile:
    problem = not_a_mapping(data, "profile keys")
    if problem is not None:
        raise ProfileError(origin, [problem])
    return parse_profile(data, origin)


def _yaml_error(exc: YamlProblems, origin: str) -> ProfileError:
    """The error of a file that failed to parse, with the rest of its problems when known.

    A file whose only YAML problem is a duplicate key is still validated, so the user
    sees every problem in one pass; a template's empty fields are not problems here.
    """
    problems = list(exc.problems)
    if exc.parsed:
        try:
            _parse_document(exc.document, origin)
        except ProfileIncomplete:
            pass
        except ProfileError as other:
            problems += other.problems
    return ProfileError(origin, problems)


# --------------------------------------------------------------------------- catalogue


class ProfileNotFound(ProfileError):
    """No profile file, built-in or user, is for this model."""

    def __init__(self, model: str, known: Iterable[str]) -> None:
        self.model = model
        super().__init__(model, [f"no profile for this model; known models: {', '.join(known)}"])


class BrokenUserProfile(ProfileError):
    """User profile files that cannot be loaded and may be meant as the profile asked for.

    The built-in map of that model is never used in their place: the user would believe
    their own map is in use. A file whose model cannot be read may be meant for any model,
    so it stands in the way of every one until it is fixed or removed.

    ``source`` is the broken file (the user folder when there are several, each problem
    then starting with its file's name); ``by_file`` has each file's problems.
    """

    def __init__(self, model: str, broken: Sequence[CatalogueEntry]) -> None:
        self.model = model
        self.by_file: dict[str, list[str]] = {}
        for entry in broken:
            assert entry.error is not None
            notes = [unreadable_model_note(model)] if entry.model_unknown else []
            self.by_file[entry.origin] = [*entry.error.problems, *notes]
        if len(broken) == 1:
            source, problems = next(iter(self.by_file.items()))
        else:
            source = str(Path(broken[0].origin).parent)
            problems = [
                f"{Path(origin).name}: {problem}"
                for origin, lines in self.by_file.items()
                for problem in lines
            ]
        super().__init__(source, problems)


def unreadable_model_note(model: str | None = None) -> str:
    """Why a broken file whose model cannot be read stops every model from loading."""
    which = f" ('{model}' too)" if model else ""
    return (
        f"model: cannot be read from this file, so it may be meant for any model{which}"
        " and no device gets a profile until it is fixed or removed"
    )


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """One profile file found in the built-in or user folders, loaded or not.

    ``claimed_models`` are the models the file says it is for: the loaded profile's model,
    or for a broken file whatever ``model:`` line can still be read. Empty when none can:
    such a file may be meant for any model.
    """

    model: str
    origin: str
    group: str  # "builtin", "simulated", "template" or "user"
    profile: Profile | None
    error: ProfileError | None
    claimed_models: tuple[str, ...]

    @property
    def model_unknown(self) -> bool:
        """A broken file that does not say which model it is for."""
        return not self.claimed_models

    def claims(self, model: str) -> bool:
        """The file says it is the profile of this model (names match whatever their case)."""
        wanted = model.casefold()
        return any(claimed.casefold() == wanted for claimed in self.claimed_models)


#: Built-in profile folders and the group each one's files belong to.
_BUILTIN_FOLDERS = {"builtin": "builtin", "simulated": "simulated", "templates": "template"}
#: Listing order: what a user most likely wants first.
_GROUP_ORDER = {"builtin": 0, "user": 1, "simulated": 2, "template": 3}
#: File names read from the user folder.
_USER_FILES = "*.y*ml"
#: A top-level ``model:`` line, read from a file too broken to parse.
_MODEL_LINE = re.compile(r"^model[ \t]*:(?P<value>.*)$", re.MULTILINE)


def _builtin_files() -> list[tuple[str, Path]]:
    # The YAML folders sit beside this module, in the profiles package.
    root = Path(str(resources.files("electrical_safety_bridge.profiles")))
    return [
        (group, path)
        for folder, group in _BUILTIN_FOLDERS.items()
        for path in sorted((root / folder).glob("*.yaml"))
    ]


def _claimed_models(path: Path) -> tuple[str, ...]:
    """The models a broken file names, read leniently, so that it still blocks them.

    Tries the whole file first (duplicate keys allowed here), then every top-level
    ``model:`` line on its own, which survives a syntax error elsewhere and finds both
    values of a ``model:`` given twice. Undecodable bytes are replaced, not fatal.
    """
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return ()
    values: list[Any] = []
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, RecursionError):
        data = None
    if isinstance(data, dict):
        values.append(data.get("model"))
    for match in _MODEL_LINE.finditer(text):
        try:
            values.append(yaml.safe_load(match["value"]))
        except (yaml.YAMLError, ValueError):
            continue
    claimed: dict[str, str] = {}
    for value in values:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            continue
        name = str(value).strip()
        if name:
            claimed.setdefault(name.casefold(), name)
    return tuple(claimed.values())


def _entry(group: str, path: Path) -> CatalogueEntry:
    try:
        profile = load_profile_file(path)
    except ProfileError as exc:
        claimed = _claimed_models(path)
        model = claimed[0] if claimed else path.stem
        return CatalogueEntry(model, str(path), group, None, exc, claimed)
    return CatalogueEntry(profile.model, str(path), group, profile, None, (profile.model,))


def user_entries(user_folder: Path | None) -> list[CatalogueEntry]:
    """Every file of the user folder, loaded or with its error; none when there is no folder.

    A folder that exists but cannot be listed is itself a broken entry of unknown model:
    the overrides it holds cannot be known, so none of its models may fall back silently.
    """
    if user_folder is None or not user_folder.exists():
        return []
    try:
        paths = sorted(user_folder.iterdir())
    except OSError as exc:
        error = ProfileError(str(user_folder), [f"cannot read the folder: {exc.strerror or exc}"])
        return [CatalogueEntry(user_folder.name, str(user_folder), "user", None, error, ())]
    # ASJ.YAML counts too: a file skipped for the case of its name would be a silent fallback.
    return [
        _entry("user", path)
        for path in paths
        if fnmatch.fnmatchcase(path.name.casefold(), _USER_FILES)
    ]


def _several_files_for_one_model(entries: Sequence[CatalogueEntry]) -> CatalogueEntry:
    """User files that claim one model: which one the user edits is unknown, so none is used."""
    first, *others = entries
    error = ProfileError(
        first.origin,
        [
            f"model: '{first.model}' is also the model of"
            f" {', '.join(other.origin for other in others)};"
            " keep one file per model in the user folder"
        ],
    )
    claimed = tuple(dict.fromkeys(model for entry in entries for model in entry.claimed_models))
    return CatalogueEntry(first.model, first.origin, "user", None, error, claimed)


def catalogue(user_folder: Path | None = None) -> list[CatalogueEntry]:
    """Every profile file, built-in then user; a user profile overrides a built-in by model.

    Broken user files are listed with their error. One whose model cannot be read replaces
    no entry by name; :func:`resolve_profile` makes it stand in the way of every model.
    """
    entries: dict[str, CatalogueEntry] = {}
    for group, path in _builtin_files():
        entry = _entry(group, path)
        entries[entry.model.casefold()] = entry
    by_model: dict[str, list[CatalogueEntry]] = {}
    for entry in user_entries(user_folder):
        key = entry.model.casefold() if entry.claimed_models else f"file:{entry.origin}"
        by_model.setdefault(key, []).append(entry)
    for key, files in by_model.items():
        entries[key] = files[0] if len(files) == 1 else _several_files_for_one_model(files)
    return sorted(entries.values(), key=lambda e: (_GROUP_ORDER[e.group], e.model))


def resolve_profile(model: str, entries: Sequence[CatalogueEntry]) -> Profile:
    """The usable profile for a model name among catalogue entries, or a ProfileError.

    A broken user file that says it is for this model, or that says nothing readable about
    its model, raises its error (:class:`BrokenUserProfile` unless it is exactly one file
    naming the model, which raises its own error): the built-in map never runs in place of
    a user's map that failed to load. A model name ending in ``.yaml`` that no profile
    claims is read as a file path; a path is nobody's override.
    """
    named = [entry for entry in entries if entry.claims(model)]
    if not named:
        path = Path(model)
        if path.suffix in (".yaml", ".yml") and path.exists():
            return load_profile_file(path)
    broken = [entry for entry in named if entry.group == "user" and entry.error is not None]
    broken += [entry for entry in entries if entry.model_unknown]
    if len(broken) == 1 and not broken[0].model_unknown:
        assert broken[0].error is not None
        raise broken[0].error
    if broken:
        raise BrokenUserProfile(model, broken)
    for entry in named:
        if entry.profile is not None:
            return entry.profile
    for entry in named:  # a built-in template, still to be filled in from the manual
        assert entry.error is not None
        raise entry.error
    raise ProfileNotFound(model, (entry.model for entry in entries))


def find_profile(model: str, user_folder: Path | None = None) -> Profile:
    """The usable profile for a model name, or a ProfileError saying why there is none."""
    return resolve_profile(model, catalogue(user_folder))
