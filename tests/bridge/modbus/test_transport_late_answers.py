"""An answer that comes after its timeout is never taken for the next request's.

Modbus RTU frames carry no transaction id, and pymodbus matches an answer to the request
waiting only by its unit id: a slow unit's late answer to one read would be decoded as the
answer to the next read of the same unit. The fault matrix (tests/bridge/fault_matrix.py) saw
it as a false wiring fault: a residual current of 20 mA read as the status register, whose
value 4 means "broken line". Real parts: a simulated ASJ on a pseudo-terminal with wire timing,
the bridge's transport on the other end.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from electrical_safety_bridge.errors import DeviceTimeout
from electrical_safety_bridge.modbus.lines import SerialLine
from electrical_safety_bridge.modbus.transport import ModbusTransport
from electrical_safety_bridge.profiles.loader import find_profile
from electrical_safety_bridge.simulator import PtyLink, SimulatedBus, SimulatedUnit

BAUD = 9600
RESIDUAL_CURRENT = 0x0000
ALARM_STATUS = 0x001B
TIMEOUT_S = 0.15  # the unit takes longer: every answer comes late


async def test_a_late_answer_is_not_the_next_requests_answer(tmp_path: Path) -> None:
    unit = SimulatedUnit(find_profile("ASJ"), 1, {"residual_current": 20})
    unit.turnaround_delay = 0.25
    sim = SimulatedBus([unit], baudrate=BAUD, wire_timing=True)
    async with PtyLink(tmp_path / "bridge", tmp_path / "sim") as link:
        await sim.serve_serial(str(link.b_path))
        transport = ModbusTransport(SerialLine(str(link.a_path), BAUD))
        await transport.open()
        try:
            answers: list[list[int]] = []
            for address in (RESIDUAL_CURRENT, ALARM_STATUS) * 3:
                try:
                    answers.append(await transport.read(1, 3, address, 1, TIMEOUT_S))
                except DeviceTimeout:
                    continue
                assert answers[-1] == unit.peek(address, 1), (
                    f"register {address:#06x} read as {answers[-1]}, the unit holds"
                    f" {unit.peek(address, 1)}: another request's late answer"
                )
            # Once the unit is fast enough again, reads work as before.
            unit.turnaround_delay = 0.0
            assert await transport.read(1, 3, ALARM_STATUS, 1, TIMEOUT_S) == [0]
            assert await transport.read(1, 3, RESIDUAL_CURRENT, 1, TIMEOUT_S) == [20]
        finally:
            transport.close()
            await sim.stop()


pytestmark = pytest.mark.usefixtures("socket_enabled")
