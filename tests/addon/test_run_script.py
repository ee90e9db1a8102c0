"""The s6 ``run`` script, run by bash with bashio's strict mode and its functions mocked.

Supervisor's broker must reach ``addon_options`` in a file only the add-on can read, never on a
command line, and its absence must not stop the add-on. The script's ``/data`` and ``/config``
are moved into a temporary folder; ``python3`` is a stand-in that records its arguments and
the broker file, runs the real ``addon_options`` and stops short of starting the bridge.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "addon" / "rootfs" / "etc" / "s6-overlay" / "s6-rc.d" / "bridge" / "run"
PASSWORD = "mosquitto-pa55-Kf9"
BROKER = {
    "addon": "core_mosquitto",
    "host": "core-mosquitto",
    "port": 1883,
    "ssl": False,
    "username": "addons",
    "password": PASSWORD,
    "protocol": "3.1.1",
}

# bashio's own strict mode, then the bashio functions the script calls, answering from the
# options file, MOCK_AVAILABLE (whether GET /services/mqtt succeeds) and MOCK_DATA (its data, as
# `bashio::services mqtt` prints it).
MOCKS = r"""
set -o errexit -o errtrace -o nounset -o pipefail
__jq() { "${REAL_PYTHON}" -c 'import json, sys
value = json.load(open(sys.argv[1]))
for part in sys.argv[2].split("."):
    value = value.get(part) if isinstance(value, dict) else None
print("" if value is None else json.dumps(value) if not isinstance(value, str) else value)' \
    "${OPTIONS}" "$1"; }
bashio::config() { local v; v=$(__jq "$1"); printf '%s' "${v:-${2:-}}"; }
bashio::config.true() { [[ "$(__jq "$1")" == "true" ]]; }
bashio::config.has_value() { [[ -n "$(__jq "$1")" ]]; }
bashio::services.available() { echo "available $1" >> "${CALLS}"; [[ "${MOCK_AVAILABLE}" == 1 ]]; }
bashio::services() {
    echo "services $*" >> "${CALLS}"
    if [[ $# -eq 1 ]]; then printf '%s' "${MOCK_DATA}"; else printf 'core-mosquitto'; fi
}
bashio::log.info() { echo "INFO: $*"; }
bashio::log.warning() { echo "WARNING: $*"; }
bashio::exit.nok() { echo "FATAL: $*"; exit 1; }
"""

# The stand-in for python3: records argv, and the mode and content of the broker file.
FAKE_PYTHON = """#!{python}
import json, os, stat, sys
from pathlib import Path
argv = sys.argv[1:]
record = {{"argv": argv}}
if "--mqtt-json" in argv:
    path = Path(argv[argv.index("--mqtt-json") + 1])
    record["broker_mode"] = stat.S_IMODE(path.stat().st_mode)
    record["broker"] = json.loads(path.read_text())
with open(os.environ["CALLS"], "a") as calls:
    calls.write("python3 " + json.dumps(record) + "\\n")
if argv[:2] == ["-m", "electrical_safety_bridge.config.addon_options"]:
    sys.path.insert(0, {addon!r})
    from electrical_safety_bridge.config.addon_options import main
    sys.exit(main(argv[2:]))
"""


def relay_options(**extra: Any) -> dict[str, Any]:
    return {
        "log_level": "debug",
        "buses": [{"id": "panel-1", "host": "192.168.1.50", "port": 502}],
        "devices": [{"id": "rcm", "unit": 1, "profile": "ASJ"}],
        "relay_mqtt": False,
        "relay_broker": {},
        "relay_webhooks": [],
        **extra,
    }


class Run:
    def __init__(self, result: subprocess.CompletedProcess[str], root: Path) -> None:
        self.returncode = result.returncode
        self.output = result.stdout + result.stderr
        self.root = root
        lines = (root / "calls").read_text(encoding="utf-8").splitlines()
        self.calls = [line for line in lines if not line.startswith("python3 ")]
        self.python = [json.loads(line[8:]) for line in lines if line.startswith("python3 ")]

    @property
    def bridge_yaml(self) -> dict[str, Any]:
        data: dict[str, Any] = yaml.safe_load(
            (self.root / "data" / "bridge.yaml").read_text(encoding="utf-8")
        )
        return data


def run_script(
    tmp_path: Path,
    options: dict[str, Any],
    service: dict[str, Any] | None,
    *,
    data: str | None = None,
) -> Run:
    """Run the script; ``service`` is Supervisor's broker (None: the service is not enabled)."""
    bash = shutil.which("bash")
    assert bash, "bash is needed"
    (tmp_path / "data").mkdir()
    (tmp_path / "bin").mkdir()
    (tmp_path / "calls").write_text("", encoding="utf-8")
    options_file = tmp_path / "data" / "options.json"
    options_file.write_text(json.dumps(options), encoding="utf-8")
    fake = tmp_path / "bin" / "python3"
    fake.write_text(FAKE_PYTHON.format(python=sys.executable, addon=str(ROOT / "addon")))
    fake.chmod(0o755)
    script = RUN.read_text(encoding="utf-8")
    script = script.replace("/data", str(tmp_path / "data"))
    script = script.replace("/config", str(tmp_path / "config"))
    harness = tmp_path / "harness.sh"
    harness.write_text(MOCKS + script, encoding="utf-8")
    env = {
        **os.environ,
        "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "REAL_PYTHON": sys.executable,
        "OPTIONS": str(options_file),
        "CALLS": str(tmp_path / "calls"),
        "MOCK_AVAILABLE": "1" if service is not None else "0",
        "MOCK_DATA": data if data is not None else json.dumps(service or {}),
    }
    result = subprocess.run(
        [bash, str(harness)], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    return Run(result, tmp_path)


def test_without_the_relay_the_broker_is_not_asked_for(tmp_path: Path) -> None:
    run = run_script(tmp_path, relay_options(), BROKER)
    assert run.returncode == 0, run.output
    assert run.calls == []
    options_call, bridge_call = run.python
    assert "--mqtt-json" not in options_call["argv"]
    assert bridge_call["argv"] == [
        "-m",
        "electrical_safety_bridge",
        "--log-level",
        "debug",
        "run",
        "--config",
        str(tmp_path / "data" / "bridge.yaml"),
    ]
    assert (tmp_path / "config" / "profiles").is_dir()
    assert "relay" not in run.bridge_yaml


def test_relay_mqtt_hands_supervisors_broker_over_in_a_private_file(tmp_path: Path) -> None:
    run = run_script(tmp_path, relay_options(relay_mqtt=True), BROKER)
    assert run.returncode == 0, run.output
    assert run.calls[:2] == ["available mqtt", "services mqtt"]
    options_call, bridge_call = run.python
    argv = options_call["argv"]
    assert argv[argv.index("--mqtt-json") + 1] == str(tmp_path / "data" / ".supervisor-mqtt.json")
    assert options_call["broker_mode"] == 0o600
    assert options_call["broker"] == BROKER
    assert bridge_call["argv"][:2] == ["-m", "electrical_safety_bridge"]
    # Never on a command line, never in the log; the file is gone once the config is written.
    assert not any(PASSWORD in arg for call in run.python for arg in call["argv"])
    assert PASSWORD not in run.output
    assert not (tmp_path / "data" / ".supervisor-mqtt.json").exists()
    assert "Relay: using Home Assistant's MQTT broker (core-mosquitto)" in run.output
    assert run.bridge_yaml["mqtt"]["password"] == PASSWORD
    assert run.bridge_yaml["relay"]["mqtt"] == {"discovery": False}
    assert (tmp_path / "data" / "bridge.yaml").stat().st_mode & 0o077 == 0


def test_without_a_broker_the_addon_warns_and_starts(tmp_path: Path) -> None:
    run = run_script(tmp_path, relay_options(relay_mqtt=True), None)
    assert run.returncode == 0, run.output
    assert run.calls == ["available mqtt"]
    assert "WARNING: Relay: Home Assistant has no MQTT broker" in run.output
    assert "alarms still reach Home Assistant" in run.output
    options_call, bridge_call = run.python
    assert "--mqtt-json" not in options_call["argv"]
    assert bridge_call["argv"][:2] == ["-m", "electrical_safety_bridge"]  # started anyway
    assert "relay" not in run.bridge_yaml


def test_an_empty_answer_counts_as_no_broker(tmp_path: Path) -> None:
    # bashio prints nothing when Supervisor's data is {}: no file is handed over.
    run = run_script(tmp_path, relay_options(relay_mqtt=True), {}, data="")
    assert run.returncode == 0, run.output
    assert "WARNING: Relay: Home Assistant has no MQTT broker" in run.output
    assert "--mqtt-json" not in run.python[0]["argv"]
    assert not (tmp_path / "data" / ".supervisor-mqtt.json").exists()
    assert "relay" not in run.bridge_yaml


def test_a_broker_without_a_host_is_not_used(tmp_path: Path) -> None:
    broken = {key: value for key, value in BROKER.items() if key != "host"}
    run = run_script(tmp_path, relay_options(relay_mqtt=True), broken)
    assert run.returncode == 0, run.output
    assert (
        "Warning: relay_mqtt: Home Assistant's MQTT broker, as Supervisor announces it, is "
        "unusable (host: required key not provided)" in run.output
    )
    assert "Warning: relay_mqtt: no MQTT broker" in run.output
    assert PASSWORD not in run.output
    assert "relay" not in run.bridge_yaml and "mqtt" not in run.bridge_yaml


def test_an_own_broker_does_not_ask_supervisor(tmp_path: Path) -> None:
    own = {"host": "broker.example.com", "password": PASSWORD, "tls": True}
    run = run_script(tmp_path, relay_options(relay_mqtt=True, relay_broker=own), BROKER)
    assert run.returncode == 0, run.output
    assert run.calls == []
    assert "--mqtt-json" not in run.python[0]["argv"]
    assert PASSWORD not in run.output
    assert run.bridge_yaml["relay"]["mqtt"]["host"] == "broker.example.com"
    assert "mqtt" not in run.bridge_yaml


@pytest.mark.parametrize("service", [BROKER, None], ids=["broker", "no-broker"])
def test_bad_options_stop_the_start_and_leave_no_broker_file(
    tmp_path: Path, service: dict[str, Any] | None
) -> None:
    options = relay_options(relay_mqtt=True, relay_webhooks=[{"id": "x", "url": "http://a.b/"}])
    run = run_script(tmp_path, options, service)
    assert run.returncode == 1
    assert "FATAL: Fix the options above" in run.output
    assert "relay_webhooks[0].secret: required key not provided" in run.output
    assert len(run.python) == 1  # the bridge was not started
    assert not (tmp_path / "data" / ".supervisor-mqtt.json").exists()
    assert PASSWORD not in run.output
