"""The optional Modbus gateway through which other masters reach the bridge's buses."""
