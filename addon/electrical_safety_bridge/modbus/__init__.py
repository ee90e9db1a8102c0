"""The Modbus edge: lines, timing, transport, framing, planning, scans; only it imports pymodbus."""
