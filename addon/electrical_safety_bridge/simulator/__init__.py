"""The simulator: any profile served over a pseudo-terminal or TCP, with scripted trouble.

It is the bridge's ``simulate`` mode, the demo's default bus and every test's device. The
pieces, each in its own module:

* :class:`SimulatedUnit` (``unit``): one detector's registers and behaviour, no I/O;
* :class:`SimulatedBus` (``line``): units on one line, served by pymodbus, with wire timing,
  dropouts and corrupted frames;
* :class:`PtyLink` (``pty_link``): a virtual null-modem cable with a USB plug;
* :class:`Scenario` and :func:`load_scenarios` (``scenarios``): scripted trouble;
* :func:`other_masters` (``masters``): Modbus TCP clients hammering the bridge's gateway;
* ``command``: the ``simulate`` command line.
"""

from __future__ import annotations

from .line import BusCounters, SimulatedBus, SimulatedServer
from .masters import other_masters
from .pty_link import PtyLink
from .scenarios import Scenario, ScenarioError, ScenarioKind, load_scenarios, parse_step
from .unit import ExceptionCode, SimulatedUnit, UnitException

__all__ = [
    "BusCounters",
    "ExceptionCode",
    "PtyLink",
    "Scenario",
    "ScenarioError",
    "ScenarioKind",
    "SimulatedBus",
    "SimulatedServer",
    "SimulatedUnit",
    "UnitException",
    "load_scenarios",
    "other_masters",
    "parse_step",
]
