"""Validation helpers shared by profiles and the service configuration.

Both promise the same thing to the person editing a YAML file: every problem at once, each
naming its key path and reason. Both are read by :func:`load_yaml_file`, so a key given twice
or a file that is not text is refused the same way in either.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import voluptuous as vol
import yaml


class YamlProblems(Exception):
    """A YAML text that cannot be used; ``problems`` has one ``where: reason`` line each.

    It names no file: the caller wraps it in the error of what the file is (a profile, the
    configuration), which does. When the text parsed and only its keys were duplicated,
    ``document`` is what PyYAML would have made of it (the last of each duplicate), so that
    the caller can still validate it and report every problem in one pass.
    """

    def __init__(self, problems: list[str], document: Any = None, *, parsed: bool = False) -> None:
        self.problems = problems
        self.document = document
        self.parsed = parsed
        super().__init__("; ".join(problems))


#: Default of an argument that may legitimately be None.
_NOTHING: Any = object()
#: Longer bad values are cut short in a problem line.
_LONGEST_SHOWN = 40


def path_text(path: Iterable[Any]) -> str:
    """A voluptuous error path as ``buses[0].devices[1].unit``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def error_lines(
    exc: vol.MultipleInvalid,
    data: Any = _NOTHING,
    *,
    shown: Callable[[list[Any]], bool] | None = None,
) -> list[str]:
    """One ``path: reason`` line per error.

    Given the validated ``data``, a line also shows the bad value where it is a plain one
    (``channels[0].kind: value must be one of [...] (got 'leakage')``). Leave it out for a
    file that may hold secrets: the lines end up in logs; or give ``shown``, which says of
    each error's path whether its value may be quoted.
    """
    lines: list[str] = []
    for err in exc.errors:
        line = f"{path_text(err.path)}: {err.msg}"
        if data is not _NOTHING and (shown is None or shown(list(err.path))):
            line += _shown_value(data, err.path)
        lines.append(line)
    return lines


def not_a_mapping(data: Any, of_what: str) -> str | None:
    """Why a parsed file is not the mapping of keys expected at its top; None when it is one."""
    if isinstance(data, dict):
        return None
    if data is None:
        found = "the file is empty"
    elif isinstance(data, list):
        found = "found a list"
    else:
        found = f"found {_plain(data) or type(data).__name__}"
    return f"(top level): must be a mapping of {of_what}, but {found}"


def _shown_value(data: Any, path: Iterable[Any]) -> str:
    """`` (got VALUE)`` for the plain value at ``path``, or nothing when there is none."""
    value = data
    for part in path:
        in_mapping = isinstance(value, dict) and part in value
        in_list = isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)
        if not (in_mapping or in_list):
            return ""  # a missing key: the reason already says "required"
        value = value[part]
    if value is None:
        return " (got an empty value)"
    shown = _plain(value)
    return f" (got {shown})" if shown else ""


def _plain(value: Any) -> str:
    """A plain value as YAML shows it; empty for a list or mapping, shown by its path instead."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        shown = value if len(value) <= _LONGEST_SHOWN else value[: _LONGEST_SHOWN - 1] + "…"
        return repr(shown)
    return ""


def yaml_problem(exc: yaml.YAMLError) -> str:
    """Where a YAML syntax error is, and why."""
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(top level)"
    reason = getattr(exc, "problem", None) or str(exc)
    return f"{where}: not valid YAML: {reason}"


def each(schema: Callable[[Any], Any]) -> Callable[[Any], list[Any]]:
    """Validate every item of a list and report the problems of all of them.

    A plain ``[schema]`` stops at the first item with a problem inside it, so a user would
    fix one entry per attempt.
    """

    def check(value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise vol.Invalid("must be a list")
        valid: list[Any] = []
        errors: list[vol.Invalid] = []
        for index, item in enumerate(value):
            try:
                valid.append(schema(item))
            except vol.MultipleInvalid as exc:
                for error in exc.errors:
                    error.prepend([index])
                    errors.append(error)
            except vol.Invalid as exc:
                exc.prepend([index])
                errors.append(exc)
        if errors:
            raise vol.MultipleInvalid(errors)
        return valid

    return check


def finite(value: Any) -> float:
    """A finite number: infinity would mean "never" where a period is expected."""
    if isinstance(value, bool):
        raise vol.Invalid("must be a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise vol.Invalid("must be a number") from None
    if not math.isfinite(number):
        raise vol.Invalid("must be a finite number")
    return number


def integer(value: Any) -> int:
    """An integer, and not a boolean (YAML's ``true`` is not unit 1)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise vol.Invalid("must be an integer")
    return value


# --------------------------------------------------------------------------- reading YAML files

_MERGE_TAG = "tag:yaml.org,2002:merge"


def load_yaml_file(path: Path) -> Any:
    """Read and parse a YAML file a person edits, or raise :class:`YamlProblems` saying why not."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise YamlProblems([f"cannot read: {exc.strerror or exc}"]) from None
    return load_yaml(yaml_text(data))


def yaml_text(data: bytes) -> str:
    """The text of a YAML file's bytes (read from disk, or uploaded), or YamlProblems."""
    try:
        # Newlines as reading the file as text gives them (YAML reads \r\n alike anyway).
        return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        # A binary file, or text saved in another encoding: either way PyYAML would stop
        # with a message that names no file.
        raise YamlProblems(
            [f"cannot read: not UTF-8 text ({exc.reason} at byte {exc.start})"]
        ) from None


def load_yaml(text: str) -> Any:
    """Parse one YAML document safely (no arbitrary objects) and refuse duplicate keys.

    Plain PyYAML keeps the last of two ``address:`` (or ``data_dir:``) lines without a word,
    which would silently read the wrong register or store events in the wrong place. Every
    duplicate key is reported, with its key path and both lines.
    """
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:  # checked before any parsing: a control character
        raise YamlProblems([_unprintable(text, exc)]) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        duplicates = duplicate_keys(node, loader)
        document = loader.construct_document(node)
        if duplicates:
            raise YamlProblems(duplicates, document, parsed=True)
        return document
    except yaml.YAMLError as exc:
        raise YamlProblems([yaml_problem(exc)]) from None
    except ValueError as exc:  # a scalar that looks like a date but is none, e.g. 2024-13-45
        raise YamlProblems([f"(top level): not valid YAML: {exc}"]) from None
    except RecursionError:
        raise YamlProblems(["(top level): not valid YAML: nested too deeply"]) from None
    finally:
        loader.dispose()


def _unprintable(text: str, exc: yaml.reader.ReaderError) -> str:
    """Where a character YAML refuses is; PyYAML itself only gives its offset."""
    line = text.count("\n", 0, exc.position) + 1
    column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
    return (
        f"line {line}, column {column}: not valid YAML: character #x{exc.character:04x}"
        " is not allowed (is this a text file?)"
    )


def duplicate_keys(root: yaml.Node, loader: yaml.SafeLoader) -> list[str]:
    """``path: duplicate key on line N (first given on line M)`` for every key given twice.

    Walks the composed nodes, before anything is built, so that the key path is known and
    all duplicates are found at once. A ``<<: *defaults`` merge is not a key, and a key that
    overrides a merged one is not a duplicate: anchors and merge keys keep working.
    """
    problems: list[str] = []
    walked: set[int] = set()

    def walk(node: yaml.Node, path: list[Any]) -> None:
        if id(node) in walked:  # an alias: checked where its anchor is defined
            return
        walked.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, [*path, index])
        elif isinstance(node, yaml.MappingNode):
            first_mark: dict[Any, yaml.Mark] = {}
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:
                    walk(value_node, path)
                    continue
                key = _scalar_key(key_node, loader)
                if key is _NOTHING:
                    walk(value_node, path)
                    continue
                mark = key_node.start_mark
                first = first_mark.setdefault(key, mark)
                if first is not mark:
                    problems.append(
                        f"{path_text([*path, key])}: duplicate key {_where(mark, first)}"
                    )
                walk(value_node, [*path, key])

    walk(root, [])
    return problems


def _where(again: yaml.Mark, first: yaml.Mark) -> str:
    """Where a key is given again and where first: by line, or by column within one line."""
    if again.line != first.line:
        return f"on line {again.line + 1} (first given on line {first.line + 1})"
    return (
        f"on line {again.line + 1}, column {again.column + 1}"
        f" (first given in column {first.column + 1})"
    )


def _scalar_key(node: yaml.Node, loader: yaml.SafeLoader) -> Any:
    """The value of a plain mapping key, or _NOTHING for one that cannot be compared.

    A complex key (a list or mapping) is left to the constructor, which refuses it as
    unhashable with its own line.
    """
    if not isinstance(node, yaml.ScalarNode):
        return _NOTHING
    key = loader.construct_object(node)
    try:
        hash(key)
    except TypeError:
        return _NOTHING
    return key
