"""What only the bridge's environment knows, as JSON on stdout: run by its interpreter.

The wire enums (channel and setpoint kinds, commands, event types, storage states) are
``electrical_safety_bridge.common.enums``, which Home Assistant's environment imports
directly. What is left here lives in the bridge's server modules, which that environment
never imports: the device-class hints of its profile metadata, and the zeroconf service
type it advertises. The integration's tests (test_files.py, "the contract") compare them
with the integration's own tables.
"""

from __future__ import annotations

import json
import sys

from electrical_safety_bridge.announce.mdns import SERVICE_TYPE
from electrical_safety_bridge.profiles.metadata import KIND_HINTS


def main() -> None:
    json.dump(
        {
            "device_classes": {k.value: hints.device_class for k, hints in KIND_HINTS.items()},
            "service_type": SERVICE_TYPE,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
