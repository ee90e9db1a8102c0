"""How the wire models read a JSON object: lenient about what they do not know, strict
about what they need (a missing id raises ``ValueError``)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

__all__ = [
    "_extra",
    "_int",
    "_list",
    "_mapping",
    "_number",
    "_opt_bool",
    "_opt_enum",
    "_opt_str",
    "_str",
    "enum_or_str",
    "unencodable_text",
]


def _str(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"'{key}' must be a non-empty string, not {value!r}")
    return value


def _opt_str(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    return value if isinstance(value, str) and value else None


def _number(raw: Mapping[str, Any], key: str) -> float | None:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _mapping(raw: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    return dict(value) if isinstance(value, Mapping) else {}


def _list(raw: Mapping[str, Any], key: str) -> list[Any]:
    value = raw.get(key)
    return list(value) if isinstance(value, list) else []


def _int(raw: Mapping[str, Any], key: str) -> int | None:
    value = raw.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _opt_bool(raw: Mapping[str, Any], key: str) -> bool | None:
    """True, False, or None for unknown (null, missing, or not a flag)."""
    value = raw.get(key)
    return value if isinstance(value, bool) else None


def enum_or_str[E: StrEnum](enum: type[E], value: str) -> E | str:
    """``value`` as a member of ``enum``, or as the plain string a newer bridge sent."""
    try:
        return enum(value)
    except ValueError:
        return value


def _extra(raw: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    """The fields of ``raw`` a model does not know: kept, and written back by ``to_dict``."""
    return {k: v for k, v in raw.items() if k not in known}


def _opt_enum[E: StrEnum](enum: type[E], raw: Mapping[str, Any], key: str) -> E | str | None:
    value = _opt_str(raw, key)
    return None if value is None else enum_or_str(enum, value)


def unencodable_text(value: Any) -> str | None:
    """Where parsed JSON holds text that UTF-8 cannot carry, or None if nowhere.

    JSON text may spell a lone surrogate as an escape (``"\\ud800"``); ``json.loads``
    gives it back as a ``str`` that cannot be encoded, so storing, signing or sending it
    again fails far from where it came in. The answer is the key path of the first such
    key or string (``who``, ``items[2].note``), itself escaped so that it can be shown.
    """
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if not _encodable(item):
                return _shown_path(path) or "(the value)"
        elif isinstance(item, Mapping):
            for key, inner in reversed(list(item.items())):
                where = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and not _encodable(key):
                    return _shown_path(where)
                stack.append((where, inner))
        elif isinstance(item, list):
            stack.extend(
                (f"{path}[{index}]", inner) for index, inner in reversed(list(enumerate(item)))
            )
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown_path(path: str) -> str:
    return path.encode("utf-8", "backslashreplace").decode("utf-8")
