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


def test_every_file_the_architecture_names_exists() -> None:
    """The architecture section is a map a newcomer follows: each file it names is there."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    root = README.parent
    bridge = root / "addon" / "electrical_safety_bridge"
    integration = root / "custom_components" / "electrical_safety"
    named = re.findall(r"`([\w/*.-]+\.(?:py|yaml))`", section)
    assert len(named) > 20, named
    missing = []
    for name in named:
        if name.startswith("custom_components/"):
            candidates = [root / name]
        elif "/" not in name:  # a platform of the integration, or a bridge module
            candidates = [integration / name, bridge / name]
        else:
            candidates = [bridge / name]
        if not any(next(iter(c.parent.glob(c.name)), None) for c in candidates):
            missing.append(name)
    assert missing == [], f"the README's architecture names files that are not there: {missing}"
