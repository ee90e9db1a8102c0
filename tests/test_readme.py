"""The README's examples work: its bridge configuration validates as written."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from electrical_safety_bridge.config.bridge_config import parse_config

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_bridge_configuration_is_valid() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    configs = [yaml.safe_load(block) for block in blocks if "buses:" in block]
    assert configs, "the README has no bridge configuration example"
    for data in configs:
        config = parse_config(data, "README.md")
        assert config.buses and all(bus.devices for bus in config.buses)


def test_readme_gives_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text
