"""Scripted trouble for the simulator: leakage ramps, arc bursts, dropouts and so on.

A scenario file is a YAML list of steps; each step says when (``at``, seconds from the
start) and what (``do``) plus that scenario's parameters::

    - {at: 0, do: leakage_ramp, unit: 1, channel: loop_1_residual_current, to: 450, seconds: 20}
    - {at: 5, do: arc_burst, unit: 2, seconds: 2}
    - {at: 30, do: dropout, unit: 1, seconds: 10}
    - {at: 45, do: crc_corruption, rate: 0.2, seconds: 15}

Steps are validated when loaded (shape and types, with every problem named) and again when
injected into a bus (the unit, channel and state must exist), so a typo fails loudly before
anything runs. Timed effects (``seconds``) undo themselves; without ``seconds`` a wiring
fault, dropout, CRC corruption or slow turnaround lasts until a step of the same kind with
``clear: true``. Ramps and bursts advance on the event loop in small steps: simulation
time, which tests never wait on with a bare sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, Protocol

import voluptuous as vol
import yaml

from ..common.enums import ChannelKind
from ..errors import BridgeError
from .unit import SimulatedUnit

#: How often a ramp moves its value, in seconds of simulation time.
RAMP_STEP_SECONDS: Final = 0.1


class ScenarioError(BridgeError):
    """A scenario step is malformed or names something the bus does not have."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


class ScenarioKind(StrEnum):
    """The kinds of trouble the simulator can stage."""

    LEAKAGE_RAMP = "leakage_ramp"
    ARC_BURST = "arc_burst"
    TEMPERATURE_RISE = "temperature_rise"
    WIRING_FAULT = "wiring_fault"
    DROPOUT = "dropout"
    CRC_CORRUPTION = "crc_corruption"
    SLOW_TURNAROUND = "slow_turnaround"


@dataclass(frozen=True, slots=True)
class Scenario:
    """One step: what happens, to which unit, starting ``at`` seconds after injection."""

    do: ScenarioKind
    at: float = 0.0
    unit: int | None = None
    channel: str | None = None
    #: arc_burst only: the arc channels that see arcs.
    channels: tuple[str, ...] = ()
    to: float | None = None
    seconds: float | None = None
    state: str | None = None
    rate: float | None = None
    delay: float | None = None
    #: arc_burst only: arcs counted on each channel during the burst.
    arcs: int = 5
    clear: bool = False


class ScenarioTarget(Protocol):
    """What a scenario acts on: a bus's units and its line conditions."""

    corrupt_rate: float
    turnaround_delay: float

    def unit(self, unit_id: int) -> SimulatedUnit:
        """The unit with this id (KeyError if none)."""
        ...


# --------------------------------------------------------------------------- parsing

_SECONDS = vol.All(vol.Coerce(float), vol.Range(min=0))
_UNIT = vol.All(int, vol.Range(min=1, max=247))
_COMMON: dict[Any, Any] = {
    vol.Required("do"): str,
    vol.Optional("at", default=0.0): _SECONDS,
}
_TIMED: dict[Any, Any] = {
    vol.Optional("seconds"): _SECONDS,
    vol.Optional("clear", default=False): bool,
}
_SCHEMAS: Final = {
    ScenarioKind.LEAKAGE_RAMP: {
        vol.Required("unit"): _UNIT,
        vol.Optional("channel"): str,
        vol.Required("to"): vol.Coerce(float),
        vol.Optional("seconds", default=5.0): _SECONDS,
    },
    ScenarioKind.TEMPERATURE_RISE: {
        vol.Required("unit"): _UNIT,
        vol.Optional("channel"): str,
        vol.Required("to"): vol.Coerce(float),
        vol.Optional("seconds", default=5.0): _SECONDS,
    },
    ScenarioKind.ARC_BURST: {
        vol.Required("unit"): _UNIT,
        vol.Exclusive("channel", "channels"): vol.Any(str, [str]),
        vol.Exclusive("channels", "channels"): [str],
        vol.Optional("seconds", default=1.0): _SECONDS,
        vol.Optional("arcs", default=5): vol.All(int, vol.Range(min=1, max=10000)),
    },
    ScenarioKind.WIRING_FAULT: {
        vol.Required("unit"): _UNIT,
        vol.Optional("channel"): str,
        vol.Optional("state"): str,
        **_TIMED,
    },
    ScenarioKind.DROPOUT: {vol.Required("unit"): _UNIT, **_TIMED},
    ScenarioKind.CRC_CORRUPTION: {
        vol.Optional("rate"): vol.All(vol.Coerce(float), vol.Range(min=0, max=1)),
        **_TIMED,
    },
    ScenarioKind.SLOW_TURNAROUND: {
        vol.Optional("delay"): _SECONDS,
        **_TIMED,
    },
}
#: The parameter a timed scenario needs unless it is a ``clear`` step.
_NEEDS: Final = {ScenarioKind.CRC_CORRUPTION: "rate", ScenarioKind.SLOW_TURNAROUND: "delay"}


def parse_step(raw: Any, where: str = "step") -> Scenario:
    """Validate one step (a mapping from YAML or JSON) into a :class:`Scenario`."""
    if not isinstance(raw, Mapping):
        raise ScenarioError(where, ["must be a mapping with 'do' and its parameters"])
    name = raw.get("do")
    try:
        kind = ScenarioKind(str(name))
    except ValueError:
        known = ", ".join(k.value for k in ScenarioKind)
        raise ScenarioError(where, [f"do: unknown scenario {name!r}; use one of {known}"]) from None
    schema = vol.Schema({**_COMMON, **_SCHEMAS[kind]})
    try:
        valid = schema(dict(raw))
    except vol.MultipleInvalid as exc:
        problems = [
            f"{'.'.join(str(p) for p in err.path) or '(step)'}: {err.msg}" for err in exc.errors
        ]
        raise ScenarioError(f"{where} ({kind})", problems) from None
    needed = _NEEDS.get(kind)
    if needed is not None and not valid["clear"] and needed not in valid:
        raise ScenarioError(f"{where} ({kind})", [f"{needed}: required unless clear is true"])
    channel = valid.pop("channel", None)
    channels = tuple(valid.pop("channels", ()))
    if kind is ScenarioKind.ARC_BURST and channel is not None:
        channels, channel = ((channel,) if isinstance(channel, str) else tuple(channel)), None
    valid["do"] = kind
    return Scenario(channel=channel, channels=channels, **valid)


def load_scenarios(source: str | Path) -> list[Scenario]:
    """Steps from a scenario file (a :class:`Path`) or from YAML text (a ``str``)."""
    if isinstance(source, Path):
        origin = str(source)
        try:
            text = source.read_text(encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(origin, [f"cannot read: {exc.strerror or exc}"]) from None
    else:
        origin, text = "scenario", source
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(top level)"
        raise ScenarioError(origin, [f"{where}: not valid YAML: {exc}"]) from None
    if data is None:
        return []
    if not isinstance(data, list):
        raise ScenarioError(origin, ["must be a list of steps, each with 'at' and 'do'"])
    steps: list[Scenario] = []
    problems: list[str] = []
    for index, raw in enumerate(data):
        try:
            steps.append(parse_step(raw, f"step {index + 1}"))
        except ScenarioError as exc:
            problems.append(str(exc))
    if problems:
        raise ScenarioError(origin, problems)
    return sorted(steps, key=lambda s: s.at)


# --------------------------------------------------------------------------- resolving


def _first(unit: SimulatedUnit, kind: ChannelKind) -> str | None:
    return next((c.key for c in unit.profile.channels if c.kind is kind), None)


def resolve(scenario: Scenario, target: ScenarioTarget) -> Scenario:
    """Check a step against the bus and fill in the default channel and state.

    Raises :class:`ScenarioError` naming what is missing, before anything runs.
    """
    where = f"{scenario.do} at {scenario.at:g} s"
    if scenario.unit is None:
        return scenario
    try:
        unit = target.unit(scenario.unit)
    except KeyError:
        raise ScenarioError(where, [f"unit: no unit {scenario.unit} on this bus"]) from None
    model = unit.profile.model

    def known(channel: str) -> str:
        if channel not in unit.keys:
            raise ScenarioError(where, [f"channel: {model} has no channel '{channel}'"])
        return channel

    match scenario.do:
        case ScenarioKind.LEAKAGE_RAMP | ScenarioKind.TEMPERATURE_RISE:
            kind = (
                ChannelKind.RESIDUAL_CURRENT
                if scenario.do is ScenarioKind.LEAKAGE_RAMP
                else ChannelKind.TEMPERATURE
            )
            channel = scenario.channel or _first(unit, kind)
            if channel is None:
                raise ScenarioError(where, [f"channel: {model} has no {kind} channel"])
            return dataclasses.replace(scenario, channel=known(channel))
        case ScenarioKind.ARC_BURST:
            channels = scenario.channels or unit.arc_channels()[:1]
            if not channels:
                raise ScenarioError(where, [f"channel: {model} has no arc_count channel"])
            return dataclasses.replace(scenario, channels=tuple(known(c) for c in channels))
        case ScenarioKind.WIRING_FAULT:
            faulty = unit.wiring_fault_channels()
            channel = known(scenario.channel) if scenario.channel else None
            channel = channel or (faulty[0] if faulty else None)
            if channel is None or channel not in faulty:
                what = f"'{channel}'" if channel else model
                raise ScenarioError(where, [f"channel: {what} has no wiring-fault condition"])
            states = unit.wiring_fault_states(channel)
            state = scenario.state or states[0]
            if not scenario.clear and state not in states:
                raise ScenarioError(
                    where,
                    [
                        f"state: '{state}' is not a wiring fault of '{channel}'; "
                        f"use one of {', '.join(states)}"
                    ],
                )
            return dataclasses.replace(scenario, channel=channel, state=state)
        case _:
            return scenario


# --------------------------------------------------------------------------- running


async def run_scenario(target: ScenarioTarget, scenario: Scenario) -> None:
    """Wait until the step's ``at`` and play it (the step must be :func:`resolve`-d)."""
    if scenario.at > 0:
        await asyncio.sleep(scenario.at)
    unit = target.unit(scenario.unit) if scenario.unit is not None else None
    match scenario.do:
        case ScenarioKind.LEAKAGE_RAMP | ScenarioKind.TEMPERATURE_RISE:
            assert unit is not None and scenario.channel is not None and scenario.to is not None
            await _ramp(unit, scenario.channel, scenario.to, scenario.seconds or 0.0)
        case ScenarioKind.ARC_BURST:
            assert unit is not None
            await _arc_burst(unit, scenario.channels, scenario.arcs, scenario.seconds or 0.0)
        case ScenarioKind.WIRING_FAULT:
            assert unit is not None and scenario.channel is not None
            channel = scenario.channel
            if scenario.clear:
                unit.set_wiring_fault(channel, None)
                return
            unit.set_wiring_fault(channel, scenario.state)
            await _hold(scenario.seconds, lambda: unit.set_wiring_fault(channel, None))
        case ScenarioKind.DROPOUT:
            assert unit is not None
            unit.online = scenario.clear
            if not scenario.clear:
                await _hold(scenario.seconds, lambda: setattr(unit, "online", True))
        case ScenarioKind.CRC_CORRUPTION:
            before = target.corrupt_rate
            target.corrupt_rate = 0.0 if scenario.clear else scenario.rate or 0.0
            if not scenario.clear:
                await _hold(scenario.seconds, lambda: setattr(target, "corrupt_rate", before))
        case ScenarioKind.SLOW_TURNAROUND:
            before = target.turnaround_delay
            target.turnaround_delay = 0.0 if scenario.clear else scenario.delay or 0.0
            if not scenario.clear:
                await _hold(scenario.seconds, lambda: setattr(target, "turnaround_delay", before))


async def run_scenarios(target: ScenarioTarget, scenarios: Iterable[Scenario]) -> None:
    """Play resolved steps concurrently, each at its own ``at``."""
    async with asyncio.TaskGroup() as group:
        for scenario in scenarios:
            group.create_task(run_scenario(target, scenario))


async def _hold(seconds: float | None, undo: Any) -> None:
    """Keep an effect for ``seconds`` (forever when None), then undo it, even if cancelled."""
    if seconds is None:
        return
    try:
        await asyncio.sleep(seconds)
    finally:
        undo()


async def _ramp(unit: SimulatedUnit, channel: str, to: float, seconds: float) -> None:
    """Move a value linearly to ``to`` over ``seconds``, in small steps."""
    current = unit.get(channel).value
    start = float(current) if isinstance(current, (int, float)) else to
    steps = max(1, math.ceil(seconds / RAMP_STEP_SECONDS))
    for step in range(1, steps + 1):
        if seconds > 0:
            await asyncio.sleep(seconds / steps)
        unit.set(channel, start + (to - start) * step / steps)


async def _arc_burst(
    unit: SimulatedUnit, channels: tuple[str, ...], arcs: int, seconds: float
) -> None:
    """Count ``arcs`` arcs on each channel spread over ``seconds``, alarm raised meanwhile."""
    for channel in channels:
        unit.start_arc_burst(channel)
    try:
        for arc in range(arcs):
            if arc and seconds > 0:
                await asyncio.sleep(seconds / arcs)
            for channel in channels:
                unit.add_arcs(channel)
        if seconds > 0:
            await asyncio.sleep(seconds / arcs)
    finally:
        for channel in channels:
            with contextlib.suppress(KeyError):
                unit.end_arc_burst(channel)
