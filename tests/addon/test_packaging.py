"""The add-on folder as Supervisor, Docker and the official linters see it.

These check the files that no Python test would otherwise read: config.yaml, its translations,
the Dockerfile, the s6-overlay services, AppArmor and the images. The rules are those of the
Home Assistant developer docs and of Supervisor's own validator, quoted where they apply.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shlex
import shutil
import struct
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from email.message import Message
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol
import yaml
from packaging.requirements import Requirement

import electrical_safety_bridge
from electrical_safety_bridge import cli
from electrical_safety_bridge.announce import supervisor
from electrical_safety_bridge.config.addon_options import (
    API_PORT,
    GATEWAY_RTU_OVER_TCP_PORT,
    GATEWAY_TCP_PORT,
    OPTIONS_SCHEMA,
    check_options,
    options_to_config,
)
from electrical_safety_bridge.config.bridge_config import ConfigError, parse_config

ROOT = Path(__file__).resolve().parents[2]
ADDON = ROOT / "addon"
S6 = ADDON / "rootfs" / "etc" / "s6-overlay" / "s6-rc.d"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    data = load_yaml(ADDON / "config.yaml")
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def dockerfile() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = (ADDON / "Dockerfile").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    return [
        " ".join(part.strip() for part in chunk.split("\\\n"))
        for chunk in re.split(r"(?<!\\)\n", "\n".join(lines))
        if chunk.strip()
    ]


# Supervisor's option types (supervisor/apps/options.py RE_SCHEMA_ELEMENT).
SCHEMA_ELEMENT = re.compile(
    r"^(?:|bool|email|url|port|device(?:\(subsystem=[a-z]+\))?|str(?:\(\d*,\d*\))?"
    r"|password(?:\(\d*,\d*\))?|int(?:\(-?\d*,-?\d*\))?"
    r"|float(?:\((?:-?\d*\.?\d+)?,(?:-?\d*\.?\d+)?\))?|match\(.*\)|list\(.+\))\??$"
)


# config.yaml --------------------------------------------------------------------------------


def test_config_has_the_required_keys_and_the_package_version(config: dict[str, Any]) -> None:
    for key in ("name", "version", "slug", "description", "arch", "url"):
        assert config.get(key), key
    assert config["slug"] == "electrical_safety"
    assert config["version"] == electrical_safety_bridge.__version__ == "0.1.0"


def test_config_targets_only_the_supported_architectures(config: dict[str, Any]) -> None:
    # armhf, armv7 and i386 are no longer supported since Home Assistant 2025.12.
    assert sorted(config["arch"]) == ["aarch64", "amd64"]


def test_config_runs_under_s6_overlay_before_core(config: dict[str, Any]) -> None:
    assert config["init"] is False  # s6-overlay v3 must be PID 1
    assert config["startup"] == "services"
    assert config["homeassistant"] == "2025.4.4"
    assert config["backup"] == "hot"


def test_config_asks_for_no_broad_privileges(config: dict[str, Any]) -> None:
    for key in ("host_network", "privileged", "full_access", "uart", "usb", "devices"):
        assert key not in config, key
    for key in ("hassio_api", "homeassistant_api", "docker_api", "auth_api"):
        assert not config.get(key), key
    assert "watchdog" not in config  # obsolete: the Dockerfile's HEALTHCHECK replaces it


def test_config_exposes_no_port_by_default(config: dict[str, Any]) -> None:
    expected = {f"{port}/tcp" for port in (API_PORT, GATEWAY_TCP_PORT, GATEWAY_RTU_OVER_TCP_PORT)}
    assert set(config["ports"]) == expected
    assert all(host_port is None for host_port in config["ports"].values())
    assert set(config["ports_description"]) == expected


def test_config_announces_the_integration_and_may_use_the_broker(config: dict[str, Any]) -> None:
    assert config["discovery"] == [supervisor.SERVICE] == ["electrical_safety"]
    assert config["services"] == ["mqtt:want"]


def test_config_keeps_ingress_apart_from_the_api(config: dict[str, Any]) -> None:
    assert config["ingress"] is True
    assert isinstance(config["ingress_port"], int)
    assert f"{config['ingress_port']}/tcp" not in config["ports"]
    assert config["ingress_port"] != API_PORT


def test_config_maps_the_addon_config_folder_for_user_profiles(config: dict[str, Any]) -> None:
    assert config["map"] == ["addon_config:rw"]
    # The run script's --profile-dir lives in that folder (/config inside the container).
    assert "--profile-dir /config/profiles" in (S6 / "bridge" / "run").read_text(encoding="utf-8")


def test_the_stop_timeout_covers_the_s6_grace_times(
    config: dict[str, Any], dockerfile: list[str]
) -> None:
    env = " ".join(line for line in dockerfile if line.startswith("ENV "))
    services = int(re.search(r"S6_SERVICES_GRACETIME=(\d+)", env)[1])  # type: ignore[index]
    kill = int(re.search(r"S6_KILL_GRACETIME=(\d+)", env)[1])  # type: ignore[index]
    assert services >= 20_000, "the bridge needs time to close the bus and the event store"
    assert services + kill < config["timeout"] * 1000 <= 300_000


def test_the_schema_uses_supervisor_types_nested_at_most_two_deep(config: dict[str, Any]) -> None:
    for key, kind in config["schema"].items():
        if isinstance(kind, list | dict):
            if isinstance(kind, list):
                (element,) = kind
                assert isinstance(element, dict), f"{key}: a list of dicts or of values"
            else:
                element = kind
            for field, field_kind in element.items():
                assert isinstance(field_kind, str), f"{key}.{field} nests too deep"
                assert SCHEMA_ELEMENT.match(field_kind), f"{key}.{field}: {field_kind}"
        else:
            assert isinstance(kind, str), f"{key}: {kind}"
            assert SCHEMA_ELEMENT.match(kind), f"{key}: {kind}"


def test_serial_adapters_are_chosen_as_tty_devices(config: dict[str, Any]) -> None:
    (bus,) = config["schema"]["buses"]
    assert bus["device"] == "device(subsystem=tty)?"  # optional: a gateway bus has none


def test_every_default_is_in_the_schema_and_every_required_option_has_one(
    config: dict[str, Any],
) -> None:
    options, schema = config["options"], config["schema"]
    assert set(options) <= set(schema)
    required = {k for k, v in schema.items() if isinstance(v, str) and not v.endswith("?")}
    assert required <= set(options)
    # Supervisor's _check_missing_options skips only "type?" strings: a dict or a list of dicts
    # missing from the options stops the add-on, so each needs a default ({} or []).
    for key, kind in schema.items():
        if isinstance(kind, dict):
            assert options.get(key) == {}, key
            assert all(field.endswith("?") for field in kind.values()), key
        elif isinstance(kind, list):
            assert options.get(key) == [], key


def test_the_relay_is_off_and_remote_commands_refused_by_default(config: dict[str, Any]) -> None:
    options = config["options"]
    for key in ("relay_mqtt", "relay_ha_discovery", "remote_commands", "remote_trip"):
        assert options[key] is False, key
    assert options["relay_webhooks"] == options["remote_command_keys"] == []
    assert not any("close" in key for key in config["schema"])


def test_secrets_are_password_fields(config: dict[str, Any]) -> None:
    # The Configuration tab hides password fields; Supervisor checks them against HIBP.
    schema = config["schema"]
    assert schema["relay_broker"]["password"] == "password?"
    assert schema["relay_webhooks"][0]["secret"] == "password"


def marker_names(schema: vol.Schema) -> set[str]:
    return {str(marker) for marker in schema.schema}


def test_the_schema_matches_the_options_the_bridge_reads(config: dict[str, Any]) -> None:
    ours = OPTIONS_SCHEMA.schema
    assert set(config["schema"]) == marker_names(OPTIONS_SCHEMA)
    nested = {k: v for k, v in config["schema"].items() if isinstance(v, list | dict)}
    assert set(nested) == {
        "buses",
        "devices",
        "site",
        "site_contracts",
        "relay_broker",
        "relay_webhooks",
        "remote_command_keys",
        "early_warning",
    }
    for key, kind in nested.items():
        element = next(value for marker, value in ours.items() if str(marker) == key)
        if isinstance(kind, list):
            ((element,), (fields,)) = element, kind
        else:
            fields = kind
        assert set(fields) == marker_names(element), key
        optional = {f for f, field_kind in fields.items() if field_kind.endswith("?")}
        assert optional == {str(m) for m in element.schema if isinstance(m, vol.Optional)}, key
    top_optional = {k for k, v in config["schema"].items() if isinstance(v, str) and v[-1] == "?"}
    assert top_optional == {
        "relay_site",
        # The proof's schedule and inspections (config/proof_config.py).
        "self_test_every_days",
        "self_test_at",
        "inspections_track",
        "cn_patrol_every_days",
    }


def test_a_fresh_install_asks_for_a_bus_and_a_detector(config: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as caught:
        options_to_config(config["options"])
    assert [problem.split(":")[0] for problem in caught.value.problems] == ["buses", "devices"]


def test_no_other_file_is_named_like_an_addon_config() -> None:
    # Supervisor searches the whole repository for config.yaml/.yml/.json.
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in {"node_modules"}]
        found += [
            Path(folder, f) for f in files if f in {"config.yaml", "config.yml", "config.json"}
        ]
    assert found == [ADDON / "config.yaml"]


# translations -------------------------------------------------------------------------------


def test_every_option_has_a_translation_and_every_translation_an_option(
    config: dict[str, Any],
) -> None:
    translations = load_yaml(ADDON / "translations" / "en.yaml")
    assert set(translations) == {"configuration", "network"}
    configuration = translations["configuration"]
    assert set(configuration) == set(config["schema"])
    for key, kind in config["schema"].items():
        entry = configuration[key]
        assert entry["name"].strip() and entry["description"].strip(), key
        if isinstance(kind, dict) or (isinstance(kind, list) and isinstance(kind[0], dict)):
            assert set(entry["fields"]) == set(kind if isinstance(kind, dict) else kind[0]), key
            for field, text in entry["fields"].items():
                assert text["name"].strip() and text["description"].strip(), f"{key}.{field}"
        else:
            assert "fields" not in entry, key
    assert set(translations["network"]) == set(config["ports"])


# Dockerfile ---------------------------------------------------------------------------------


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            match = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[a-z,]+\])?==([^\s;]+)", line)
            assert match, f"not pinned exactly: {line}"
            found[match[1].lower()] = match[3]
    return found


def test_the_dockerfile_builds_from_a_pinned_default_base(dockerfile: list[str]) -> None:
    args = [line for line in dockerfile if line.startswith("ARG BUILD_FROM")]
    assert len(args) == 1
    image = args[0].split("=", 1)[1]
    name, _, tag = image.rpartition(":")
    assert name.startswith("ghcr.io/home-assistant/"), image
    assert tag and tag != "latest" and re.search(r"\d", tag), image
    froms = [line for line in dockerfile if line.startswith("FROM ")]
    assert froms == ["FROM ${BUILD_FROM}"]
    assert not (ADDON / "build.yaml").exists()  # replaced by the ARG default since 2026


def test_the_dockerfile_installs_exactly_the_pinned_requirements(dockerfile: list[str]) -> None:
    wanted = pins(ADDON / "requirements.txt")
    assert {"pymodbus", "aiohttp", "voluptuous", "pyyaml"} <= set(wanted)
    installs = [
        shlex.split(command.split("pip install", 1)[1])
        for line in dockerfile
        if line.startswith("RUN ")
        for command in re.split(r"&&|;", line)
        if "pip install" in command
    ]
    assert installs, "the Dockerfile installs nothing with pip"
    copied = dockerfile_copies(dockerfile)
    installed: dict[str, str] = {}
    for words in installs:
        for index, word in enumerate(words):
            if word in ("-r", "--requirement"):
                target = words[index + 1]
                assert copied.get("requirements.txt") == target, "install the copied file"
                installed.update(pins(ADDON / "requirements.txt"))
            elif word.startswith("/") and words[index - 1] not in ("-r", "--requirement"):
                # The package itself, from its copied source: its dependencies are the pins.
                assert word == PACKAGE_SOURCE and "--no-deps" in words, words
            elif not word.startswith("-") and words[index - 1] not in ("-r", "--requirement"):
                name, sep, version = word.partition("==")
                assert sep, f"unpinned package in the Dockerfile: {word}"
                installed[re.sub(r"\[.*\]", "", name).lower()] = version
    assert installed == wanted


def dockerfile_copies(dockerfile: list[str]) -> dict[str, str]:
    """Each source the Dockerfile copies from the build context, and where it lands."""
    found: dict[str, str] = {}
    for line in dockerfile:
        if line.startswith("COPY ") and "--from=" not in line:
            *sources, target = line.split()[1:]
            for source in sources:
                found[source] = target + Path(source).name if target.endswith("/") else target
    return found


#: Where the Dockerfile puts the package's source to `pip install --no-deps` it.
PACKAGE_SOURCE = "/tmp/src"


def test_the_dockerfile_installs_the_distribution_not_a_path(dockerfile: list[str]) -> None:
    assert not any(line.startswith("ENV ") and "PYTHONPATH" in line for line in dockerfile)
    copied = dockerfile_copies(dockerfile)
    # Everything `pip install /tmp/src` needs: pyproject.toml, the files it names, the package.
    project = tomllib.loads((ADDON / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for name in ("pyproject.toml", project["readme"], *project["license-files"]):
        assert copied.get(name) == f"{PACKAGE_SOURCE}/{name}", name
    assert copied["electrical_safety_bridge"] == f"{PACKAGE_SOURCE}/electrical_safety_bridge"
    assert f"pip install --no-cache-dir --no-deps {PACKAGE_SOURCE}" in " ".join(dockerfile)


def test_the_dockerfile_checks_the_bridge_api_health(dockerfile: list[str]) -> None:
    (check,) = [line for line in dockerfile if line.startswith("HEALTHCHECK ")]
    assert f"http://127.0.0.1:{API_PORT}/api/v1/health" in check
    assert "CMD" in check


def test_the_dockerfile_labels_the_image_for_supervisor(
    config: dict[str, Any], dockerfile: list[str]
) -> None:
    labels = " ".join(line for line in dockerfile if line.startswith("LABEL "))
    assert 'io.hass.type="app"' in labels
    assert f'io.hass.arch="{"|".join(config["arch"])}"' in labels
    version = [line for line in dockerfile if line.startswith("ARG BUILD_VERSION")]
    assert version == [f"ARG BUILD_VERSION={config['version']}"]


def test_everything_the_dockerfile_copies_is_in_the_addon_folder(dockerfile: list[str]) -> None:
    sources = [
        source
        for line in dockerfile
        if line.startswith(("COPY ", "ADD ")) and "--from=" not in line
        for source in line.split()[1:-1]
    ]
    assert "electrical_safety_bridge" in sources
    assert "rootfs" in sources
    for source in sources:
        assert (ADDON / source).exists(), f"{source} is not in the build context addon/"


def test_the_addon_folder_has_every_file_supervisor_shows() -> None:
    for name in (
        "config.yaml",
        "Dockerfile",
        "DOCS.md",
        "README.md",
        "CHANGELOG.md",
        "apparmor.txt",
        "icon.png",
        "logo.png",
        "requirements.txt",
        "translations/en.yaml",
    ):
        assert (ADDON / name).is_file(), name


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", path
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_icon_is_square_and_the_logo_wide() -> None:
    assert png_size(ADDON / "icon.png") == (128, 128)
    width, height = png_size(ADDON / "logo.png")
    assert 200 <= width <= 300 and 80 <= height <= 120


def test_the_changelog_has_the_current_version(config: dict[str, Any]) -> None:
    changelog = (ADDON / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{config['version']}]" in changelog
    assert "## [Unreleased]" in changelog


# the distribution ---------------------------------------------------------------------------
# One distribution, electrical-safety-bridge (addon/pyproject.toml): the base install (aiohttp
# only) is the integration's manifest requirement; the [bridge] extra is what the bridge runs on.

MANIFEST = ROOT / "custom_components" / "electrical_safety" / "manifest.json"


@pytest.fixture(scope="module")
def project() -> dict[str, Any]:
    data = tomllib.loads((ADDON / "pyproject.toml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_one_version_everywhere(config: dict[str, Any], project: dict[str, Any]) -> None:
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    assert manifest["requirements"] == [f"electrical-safety-bridge=={manifest['version']}"]
    assert manifest["version"] == config["version"] == electrical_safety_bridge.__version__
    assert project["project"]["dynamic"] == ["version"]
    dynamic = project["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "electrical_safety_bridge.__version__"}


def test_the_base_install_needs_aiohttp_alone_and_the_extra_admits_the_pins(
    project: dict[str, Any],
) -> None:
    wanted = pins(ADDON / "requirements.txt")
    (base,) = (Requirement(r) for r in project["project"]["dependencies"])
    assert base.name == "aiohttp" and not base.marker
    # A lower bound, not a pin: Home Assistant pins aiohttp itself.
    assert all(spec.operator == ">=" for spec in base.specifier), base
    assert base.specifier.contains(wanted["aiohttp"])
    extra = [Requirement(r) for r in project["project"]["optional-dependencies"]["bridge"]]
    assert {r.name.lower() for r in extra} == set(wanted) - {"aiohttp"}
    for requirement in extra:
        assert requirement.specifier, f"{requirement.name}: give a compatible range"
        assert not any(spec.operator == "==" for spec in requirement.specifier), requirement
        assert requirement.specifier.contains(wanted[requirement.name.lower()]), requirement
    assert "pymodbus[serial]" in {f"{r.name}[{','.join(r.extras)}]" for r in extra if r.extras}


def test_the_console_script_is_the_command_line(project: dict[str, Any]) -> None:
    scripts = project["project"]["scripts"]
    assert scripts == {"electrical-safety-bridge": "electrical_safety_bridge.cli:main"}
    assert callable(cli.main)


def test_the_package_carries_the_repository_license(project: dict[str, Any]) -> None:
    assert project["project"]["license"] == "Apache-2.0"
    assert (ADDON / "LICENSE").read_bytes() == (ROOT / "LICENSE").read_bytes()


def package_data() -> set[str]:
    """The data files the wheel must carry, as they lie in the checkout."""
    package = ADDON / "electrical_safety_bridge"
    found = {p for p in package.rglob("*.yaml") if p.parent.parent.name == "profiles"}
    assert {p.parent.name for p in found} == {"builtin", "simulated", "templates"}
    # The web UI's templates, script, style, icon and texts.
    web = {p for p in (package / "webui").rglob("*") if p.is_file() and p.suffix != ".py"}
    web = {p for p in web if "__pycache__" not in p.parts}
    assert {p.parent.name for p in web} == {"templates", "static", "translations"}
    return {p.relative_to(ADDON).as_posix() for p in [*found, *web, package / "py.typed"]}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, dockerfile: list[str]) -> Path:
    """The sdist and the wheel, built as the release workflow builds them (python -m build)
    from exactly what the Dockerfile copies to install the package, without the network."""
    root = tmp_path_factory.mktemp("dist")
    for source, target in dockerfile_copies(dockerfile).items():
        if not target.startswith(f"{PACKAGE_SOURCE}/"):
            continue
        destination = root / "src" / target.removeprefix(f"{PACKAGE_SOURCE}/")
        if (ADDON / source).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
            shutil.copytree(ADDON / source, destination, ignore=ignore)
        else:
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ADDON / source, destination)
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", "dist", "src"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return root / "dist"


def wheel_metadata(built: Path) -> tuple[set[str], Message]:
    (wheel,) = built.glob("electrical_safety_bridge-*-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (metadata,) = (n for n in names if n.endswith(".dist-info/METADATA"))
        return names, BytesParser().parsebytes(archive.read(metadata))


def test_the_wheel_requires_aiohttp_and_the_rest_only_for_the_bridge(built: Path) -> None:
    _, metadata = wheel_metadata(built)
    assert metadata["Name"] == "electrical-safety-bridge"
    assert metadata["Version"] == electrical_safety_bridge.__version__
    assert metadata["Requires-Python"] == ">=3.13"
    assert metadata.get_all("Provides-Extra") == ["bridge"]
    requirements = [Requirement(r) for r in metadata.get_all("Requires-Dist") or []]
    unconditional = [r.name for r in requirements if r.marker is None]
    assert unconditional == ["aiohttp"]
    bridge = [r for r in requirements if r.marker is not None]
    assert {str(r.marker) for r in bridge} == {'extra == "bridge"'}
    assert {r.name.lower() for r in bridge} == set(pins(ADDON / "requirements.txt")) - {"aiohttp"}


def test_the_wheel_carries_every_subpackage_the_profiles_and_py_typed(built: Path) -> None:
    names, _ = wheel_metadata(built)
    package = ADDON / "electrical_safety_bridge"
    modules = {
        p.relative_to(ADDON).as_posix()
        for p in package.rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert modules <= names, sorted(modules - names)
    assert package_data() <= names, sorted(package_data() - names)
    (entry_points,) = (n for n in names if n.endswith(".dist-info/entry_points.txt"))
    (wheel,) = built.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(entry_points).decode()
    assert "electrical-safety-bridge = electrical_safety_bridge.cli:main" in text


def test_the_sdist_rebuilds_the_same_package(built: Path) -> None:
    (sdist,) = built.glob("electrical_safety_bridge-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"pyproject.toml", "PYPI.md", "LICENSE"} <= names
    assert package_data() <= names, sorted(package_data() - names)


# s6-overlay ---------------------------------------------------------------------------------


def s6_scripts() -> list[Path]:
    return sorted(p for p in S6.rglob("*") if p.is_file() and p.name in {"run", "finish", "up"})


def test_each_service_is_a_valid_s6_rc_definition() -> None:
    # `user` is s6-overlay's own bundle; an add-on only adds to its contents.d.
    services = {p.name: p for p in S6.iterdir() if p.is_dir() and p.name != "user"}
    assert "bridge" in services
    for name, folder in services.items():
        kind = (folder / "type").read_text(encoding="utf-8").strip()
        assert kind in {"longrun", "oneshot", "bundle"}, name
        if kind == "longrun":
            assert (folder / "run").is_file(), name
            assert (folder / "dependencies.d" / "base").is_file(), name
    members = {p.name for p in (S6 / "user" / "contents.d").iterdir()}
    assert members == set(services)
    assert (S6 / "bridge" / "finish").is_file()


@pytest.mark.parametrize("script", s6_scripts(), ids=lambda p: str(p.relative_to(S6)))
def test_each_s6_script_is_executable_and_passes_shellcheck(script: Path) -> None:
    assert os.access(script, os.X_OK), f"chmod +x {script.relative_to(ROOT)}"
    first = script.read_text(encoding="utf-8").splitlines()[0]
    assert first == "#!/command/with-contenv bashio", first
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is needed (apt-get install shellcheck)"
    # As home-assistant/addons lints: bash, and SC1008 off for the with-contenv shebang.
    result = subprocess.run(
        [shellcheck, "-s", "bash", "-e", "SC1008", "-x", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_run_script_checks_the_options_then_execs_the_bridge() -> None:
    text = (S6 / "bridge" / "run").read_text(encoding="utf-8")
    assert "python3 -m electrical_safety_bridge.config.addon_options" in text
    assert "/data/options.json /data/bridge.yaml" in text
    command = re.search(r"^exec ((?:.*\\\n)*.*)$", text, re.M)
    assert command, "the run script must exec the bridge, so that s6 supervises it"
    argv = shlex.split(command[1].replace("\\\n", " "))
    assert argv[:3] == ["python3", "-m", "electrical_safety_bridge"]
    (level_option,) = [k for k in OPTIONS_SCHEMA.schema if str(k) == "log_level"]
    levels = OPTIONS_SCHEMA.schema[level_option].container
    for level in levels:
        words = [level if w == "${log_level}" else w for w in argv[3:]]
        try:
            args = cli.build_parser().parse_args(words)
        except SystemExit:
            pytest.fail(f"the bridge's command line does not accept the run script's {words}")
        assert args.command == "run"
        assert args.config == "/data/bridge.yaml"


# AppArmor -----------------------------------------------------------------------------------


def test_the_apparmor_profile_is_named_after_the_slug(config: dict[str, Any]) -> None:
    text = (ADDON / "apparmor.txt").read_text(encoding="utf-8")
    assert f"profile {config['slug']} flags=(attach_disconnected,mediate_deleted)" in text
    assert f"signal (receive) peer=*_{config['slug']}," in text
    for rule in ("/dev/ttyUSB* rwk,", "/dev/ttyACM* rwk,", "/dev/serial/by-id/* r,", "/data/** rw"):
        assert rule in text, rule


# DOCS.md ------------------------------------------------------------------------------------


def docs_examples() -> list[dict[str, Any]]:
    """The configuration examples of the docs (a Home Assistant automation is not one)."""
    text = (ADDON / "DOCS.md").read_text(encoding="utf-8")
    blocks = [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", text, re.S)]
    # Home Assistant configuration (an action, the safety report's automation) is not a
    # configuration of the add-on.
    return [block for block in blocks if "actions" not in block and "triggers" not in block]


def test_every_configuration_example_in_the_docs_is_valid() -> None:
    examples = docs_examples()
    standalone = [e for e in examples if "data_dir" in e]
    options = [e for e in examples if "data_dir" not in e]
    assert len(standalone) == 2 and len(options) == 4
    # An example without buses is a part of the options (the relay's, the site's): it goes
    # with the first.
    complete = [e for e in options if "buses" in e]
    parts = [e for e in options if "buses" not in e]
    assert len(complete) == 2 and len(parts) == 2
    for example in [*complete, *({**complete[0], **part} for part in parts)]:
        warnings: list[str] = []
        parse_config(check_options(example, warnings=warnings), "DOCS.md")
        assert warnings == []
    for example in standalone:
        parse_config(example, "DOCS.md")


def test_the_site_examples_in_the_docs_say_the_same_in_both_forms() -> None:
    examples = docs_examples()
    (standalone,) = [e for e in examples if "data_dir" in e and "site" in e]
    (part,) = [e for e in examples if "data_dir" not in e and "site" in e]
    base = next(e for e in examples if "buses" in e and "data_dir" not in e)
    from_options = parse_config(check_options({**base, **part}), "DOCS.md")
    from_yaml = parse_config(standalone, "DOCS.md")
    site = from_options.site.site("bridge")
    assert (site.id, site.region, site.latitude) == ("sakura-heights-201", "jp", 35.6812)
    assert from_yaml.site.site("bridge") == dataclasses.replace(site, id="sakura-201")
    assert (
        from_options.buses[0].devices[0].installation
        == from_yaml.buses[0].devices[0].installation
        is not None
    )


def test_the_relay_example_in_the_docs_turns_everything_on_but_trip() -> None:
    (part,) = [e for e in docs_examples() if "relay_mqtt" in e]
    base = next(e for e in docs_examples() if "buses" in e and "data_dir" not in e)
    relay = parse_config(check_options({**base, **part}), "DOCS.md").relay
    assert relay is not None and relay.mqtt is not None
    assert (relay.site, relay.mqtt.host, relay.mqtt.port, relay.mqtt.tls) == (
        "flat-3",
        "broker.example.com",
        8883,
        True,
    )
    assert relay.mqtt.discovery
    assert [hook.id for hook in relay.webhooks] == ["landlord"]
    assert relay.remote_commands.enabled
    assert not relay.remote_commands.allow_trip
    assert relay.remote_commands.actions == {"acknowledge", "self_test", "mute"}
