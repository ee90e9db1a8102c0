"""Validation helpers shared by profiles and the service configuration.

Both promise the same thing to the person editing a YAML file: every problem at once, each
naming its key path and reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import voluptuous as vol
import yaml


def path_text(path: Iterable[Any]) -> str:
    """A voluptuous error path as ``buses[0].devices[1].unit``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def error_lines(exc: vol.MultipleInvalid) -> list[str]:
    """One ``path: reason`` line per error."""
    return [f"{path_text(err.path)}: {err.msg}" for err in exc.errors]


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
