"""The electrical-safety bridge: owns the Modbus bus, latches alarms, serves Home Assistant."""

__version__ = "0.1.0"
