"""The report's catalogue: every language has every key, and nothing is left untranslated."""

from __future__ import annotations

import pytest

from electrical_safety_bridge.report.catalogue import (
    CATALOGUE,
    LANGUAGES,
    Translator,
    UnknownLanguage,
    texts,
)


def test_every_language_has_every_key() -> None:
    keys = set(CATALOGUE["en"])
    for language in LANGUAGES:
        assert set(CATALOGUE[language]) == keys, language
        assert all(CATALOGUE[language][k].strip() for k in keys), language


@pytest.mark.parametrize("language", ["zh-Hans", "ja"])
def test_the_cjk_texts_are_not_english(language: str) -> None:
    same = [
        key
        for key, text in CATALOGUE[language].items()
        if text == CATALOGUE["en"][key] and any(c.isalpha() for c in text)
    ]
    assert same == [], same


def test_an_unknown_language_is_refused_by_name() -> None:
    with pytest.raises(
        UnknownLanguage, match="'language' must be one of en, zh-Hans, ja, not 'fr'"
    ):
        texts("fr")


def test_a_wire_value_without_a_text_is_shown_as_it_is() -> None:
    tr = Translator("ja")
    assert tr.value("kind", "residual_current") == "漏洩電流"
    assert tr.value("kind", "plasma_arc") == "plasma_arc"
    assert tr.value("kind", None) == ""
