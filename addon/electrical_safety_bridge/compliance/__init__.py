"""Safety and compliance rules: pure functions over the site, its detectors' installations
and setpoints, and the self-test log, each citing the clause it implements (Japan: 第13節
漏電火災警報器; China: GB 50116, GB 50166, GB 14287). Findings warn and never block; the
only refusal is the bridge's own, of a setpoint write outside the range the device accepts
(``safety.commands.authorise_setpoint``).
"""

from __future__ import annotations

from .china import SelfTestTiming
from .engine import evaluate
from .facts import DeviceFacts, SetpointFact, device_facts

__all__ = [
    "DeviceFacts",
    "SelfTestTiming",
    "SetpointFact",
    "device_facts",
    "evaluate",
]
