"""Write the compliance explanations into Home Assistant's translations, so that a repair
issue says what the bridge's report says (one catalogue, ``explanations.py``).

    .venv-bridge/bin/python -m electrical_safety_bridge.compliance.ha_translations \
        custom_components/electrical_safety

rewrites ``issues.compliance_*`` of ``strings.json`` and ``translations/{en,zh-Hans,ja}.json``
and leaves every other string as it is. A test fails while they differ.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ..common.findings import issue_translation_key
from .explanations import CATALOGUE, LANGUAGES

PREFIX = "compliance_"


def issue_strings(language: str) -> dict[str, dict[str, str]]:
    """The ``issues`` entries of the compliance rules in one language."""
    return {
        issue_translation_key(rule): {
            "title": texts[language][0],
            "description": texts[language][1],
        }
        for rule, texts in CATALOGUE.items()
    }


def files(integration: Path) -> dict[Path, str]:
    """Each translation file and its language (``strings.json`` is English)."""
    return {
        integration / "strings.json": "en",
        **{integration / "translations" / f"{lang}.json": lang for lang in LANGUAGES},
    }


def synced(strings: dict[str, Any], language: str) -> dict[str, Any]:
    """``strings`` with its compliance issues replaced by the catalogue's."""
    issues = {k: v for k, v in strings.get("issues", {}).items() if not k.startswith(PREFIX)}
    return {**strings, "issues": {**issues, **issue_strings(language)}}


def main(argv: list[str]) -> int:
    """Rewrite the integration's translation files."""
    if len(argv) != 1:
        print("usage: ha_translations <integration folder>", file=sys.stderr)
        return 2
    for path, language in files(Path(argv[0])).items():
        strings = json.loads(path.read_text(encoding="utf-8"))
        text = json.dumps(synced(strings, language), indent=2, ensure_ascii=False) + "\n"
        path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
