"""What the bridge knows, as JSON on stdout: run by the bridge environment's interpreter.

The integration's tests compare it with the integration's own tables
(test_files.py, "the contract"), without Home Assistant's environment importing the bridge.
"""

from __future__ import annotations

import json
import sys

from electrical_safety_bridge.announce.mdns import SERVICE_TYPE
from electrical_safety_bridge.profiles import model
from electrical_safety_bridge.profiles.metadata import KIND_HINTS
from electrical_safety_bridge.safety import events
from electrical_safety_bridge.storage import guard


def main() -> None:
    json.dump(
        {
            "channel_kinds": sorted(k.value for k in model.ChannelKind),
            "setpoint_kinds": sorted(k.value for k in model.SetpointKind),
            "commands": sorted(c.value for c in model.CommandName),
            "event_types": sorted(t.value for t in events.EventType),
            "storage_states": sorted(s.value for s in guard.StorageState),
            "device_classes": {k.value: hints.device_class for k, hints in KIND_HINTS.items()},
            "service_type": SERVICE_TYPE,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
