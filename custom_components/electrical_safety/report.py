"""The ``generate_report`` service action: the bridge's safety report, as JSON for the
caller and as HTML and PDF files in Home Assistant's media folder.

The files go to the media folder (``/media/electrical_safety/`` on Home Assistant OS), not to
``/config/www``: what is in ``www`` is served at ``/local/`` to anyone who has the address,
without logging in, and a report names people and their homes. The media folder is only
shown to logged-in users, in the Media panel (My media → electrical_safety).
"""

from __future__ import annotations

import re
from pathlib import Path

import voluptuous as vol
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util.json import JsonObjectType

from .const import ATTR_CONFIG_ENTRY_ID, ATTR_LANGUAGE, ATTR_PERIOD, DOMAIN, REPORT_FOLDER
from .coordinator import ElectricalSafetyCoordinator
from .helpers import async_bridge_call

#: The languages the bridge writes reports in.
REPORT_LANGUAGES = ("en", "zh-Hans", "ja")

GENERATE_REPORT_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(ATTR_PERIOD): vol.All(cv.string, vol.Match(r"^\d{4}-\d{2}$")),
        vol.Optional(ATTR_LANGUAGE): vol.In(REPORT_LANGUAGES),
    }
)


def report_language(ha_language: str) -> str:
    """The report's language for Home Assistant's: Chinese and Japanese, else English."""
    if ha_language.startswith("zh"):
        return "zh-Hans"
    return "ja" if ha_language.startswith("ja") else "en"


def media_folder(hass: HomeAssistant) -> tuple[str, Path]:
    """The media source key and folder the reports go to (``local`` by default)."""
    dirs = hass.config.media_dirs
    source = next((name for name in dirs if name == "local"), next(iter(dirs), "local"))
    return source, Path(dirs.get(source) or hass.config.path("media"))


def _write(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        partial = folder / f".{name}.partial"
        partial.write_bytes(body)
        partial.replace(folder / name)  # a reader never sees half a report


async def async_generate_report(
    call: ServiceCall, coordinators: list[ElectricalSafetyCoordinator]
) -> ServiceResponse:
    """Make the report on the bridge, store its HTML and PDF, and answer with its JSON."""
    hass = call.hass
    if len(coordinators) > 1:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="bridge_ambiguous")
    coordinator = coordinators[0]
    language = call.data.get(ATTR_LANGUAGE) or report_language(hass.config.language)
    target = coordinator.config_entry.title
    client = coordinator.client
    report = await async_bridge_call(
        coordinator, target, client.report(call.data.get(ATTR_PERIOD), language)
    )
    # The same month for the files, even if a month ends between the calls.
    period = str(report["period"]["label"])
    html = await async_bridge_call(
        coordinator, target, client.report_file(period, "html", language)
    )
    pdf = await async_bridge_call(coordinator, target, client.report_file(period, "pdf", language))
    site = re.sub(r"[^A-Za-z0-9_-]+", "_", coordinator.bridge_id) or "bridge"
    stem = f"safety_report_{site}_{period}_{language}"
    key, root = media_folder(hass)
    folder = root / REPORT_FOLDER
    await hass.async_add_executor_job(_write, folder, {f"{stem}.html": html, f"{stem}.pdf": pdf})
    files: JsonObjectType = {}
    for suffix in ("html", "pdf"):
        files[suffix] = {
            "path": str(folder / f"{stem}.{suffix}"),
            "media_content_id": f"media-source://media_source/{key}/{REPORT_FOLDER}/{stem}.{suffix}",
        }
    return {"report": report, "files": files}
