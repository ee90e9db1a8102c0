"""The web UI's own catalogue of texts: English, Simplified Chinese and Japanese.

One JSON file per language (``translations/<language>.json``), flat keys, ``str.format``
placeholders. Every language has every key (a test holds them to it); a key missing at run
time is a bug, and shows as the key itself rather than a wrong language.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

#: The languages the web UI speaks; the first is the fallback.
LANGUAGES = ("en", "zh-Hans", "ja")
#: How each language names itself in the switcher.
NATIVE_NAMES = {"en": "English", "zh-Hans": "简体中文", "ja": "日本語"}


@cache
def catalogue(language: str) -> Mapping[str, str]:
    """The texts of one language (``LANGUAGES``)."""
    text = (
        resources.files(__package__)
        .joinpath("translations", f"{language}.json")
        .read_text(encoding="utf-8")
    )
    loaded = json.loads(text)
    if not isinstance(loaded, dict):
        raise ValueError(f"webui/translations/{language}.json: must be a JSON object")
    return {str(key): str(value) for key, value in loaded.items()}


def supported(tag: str) -> str | None:
    """The supported language a language tag asks for (``zh-CN`` → ``zh-Hans``), or None."""
    tag = tag.strip().lower().replace("_", "-")
    if not tag:
        return None
    primary = tag.split("-")[0]
    if primary == "zh":
        # Traditional script or its regions are not offered; Simplified is closer than English.
        return "zh-Hans"
    return next((lang for lang in LANGUAGES if lang.lower() == primary), None)


def from_accept_language(header: str | None) -> str | None:
    """The best supported language of an ``Accept-Language`` header, by its q values."""
    if not header:
        return None
    offers: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        language = supported(tag)
        if language is not None and quality > 0:
            offers.append((-quality, index, language))
    return min(offers)[2] if offers else None


@dataclass(frozen=True)
class Translator:
    """Texts of one language: ``t("key", name=value)``."""

    language: str

    def __call__(self, key: str, /, **values: object) -> str:
        text = catalogue(self.language).get(key)
        if text is None:
            text = catalogue(LANGUAGES[0]).get(key, key)
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        """Whether the catalogue has ``key`` (a channel kind or state it may not name)."""
        return key in catalogue(self.language)
