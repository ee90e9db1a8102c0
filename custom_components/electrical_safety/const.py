"""Constants of the Electrical Safety integration."""

from __future__ import annotations

import logging
from typing import Final

from homeassistant.const import Platform

from electrical_safety_bridge.common.schema import API_VERSION as CONTRACT_API_VERSION

DOMAIN: Final = "electrical_safety"
LOGGER = logging.getLogger(__package__)

PLATFORMS: Final = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.EVENT,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.TODO,
]

#: The API version this integration speaks (``api_version`` in ``GET /api/v1/info``): the
#: contract's, which also says the schema versions both sides accept.
API_VERSION: Final = CONTRACT_API_VERSION
DEFAULT_PORT: Final = 8765

CONF_TOKEN: Final = "token"

#: The manufacturer shown for the bridge's and the site's devices.
MANUFACTURER: Final = "Electrical Safety for Home Assistant"

#: Options: minutes of silence before the "bridge unreachable" repair issue appears.
CONF_REPAIR_AFTER: Final = "repair_after_minutes"
DEFAULT_REPAIR_AFTER: Final = 10
#: Options: hours a hazard may stay open (not eliminated) before it is a repair issue.
CONF_HAZARD_REPAIR_AFTER: Final = "hazard_repair_after_hours"
DEFAULT_HAZARD_REPAIR_AFTER: Final = 24

#: Supervisor discovery (service ``electrical_safety``): the add-on's slug ends with this
#: (``local_electrical_safety`` when built locally, ``<repository hash>_electrical_safety``
#: when installed from a repository).
ADDON_SLUG_SUFFIX: Final = DOMAIN

#: WebSocket reconnect backoff, seconds: doubles from the first to the cap.
RECONNECT_MIN: Final = 1.0
RECONNECT_MAX: Final = 60.0

#: Most events fetched to fill a gap after a reconnect.
REPLAY_LIMIT: Final = 1000
#: Seconds between saves of the position in the bridge's log reached by the events
#: dispatched (Home Assistant's stop always saves it): after a crash, at most this much of
#: the log is dispatched a second time, never skipped.
SEEN_SAVE_DELAY: Final = 10.0

#: Who the bridge records as the author of a command or acknowledgement.
WHO: Final = "Home Assistant"

ATTR_ALARM_ID: Final = "alarm_id"
ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_DEVICE_ID: Final = "device_id"
ATTR_EVENT_TYPES: Final = "event_types"
ATTR_SINCE: Final = "since"
ATTR_LIMIT: Final = "limit"
ATTR_HAZARD_ID: Final = "hazard_id"
ATTR_NOTE: Final = "note"
ATTR_WHY: Final = "why"
ATTR_DURATION: Final = "duration"
ATTR_UNTIL: Final = "until"
ATTR_PERIOD: Final = "period"
ATTR_LANGUAGE: Final = "language"

SERVICE_ACKNOWLEDGE_ALARM: Final = "acknowledge_alarm"
SERVICE_RUN_SELF_TEST: Final = "run_self_test"
SERVICE_GET_EVENTS: Final = "get_events"
SERVICE_ACKNOWLEDGE_HAZARD: Final = "acknowledge_hazard"
SERVICE_ELIMINATE_HAZARD: Final = "eliminate_hazard"
SERVICE_LOCK_OUT: Final = "lock_out"
SERVICE_LIFT_LOCK_OUT: Final = "lift_lock_out"
SERVICE_GENERATE_REPORT: Final = "generate_report"
#: The folder of the media folder the safety reports are written to.
REPORT_FOLDER: Final = "electrical_safety"

#: Fired on Home Assistant's bus for every event of a bridge's log (bus_event.py); the
#: logbook describes it (logbook.py).
EVENT_ELECTRICAL_SAFETY: Final = f"{DOMAIN}_event"
