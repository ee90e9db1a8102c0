"""The bus: its settings, and the scheduler that polls one Modbus line and queues commands."""
