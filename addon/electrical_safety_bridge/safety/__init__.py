"""Safety rules: alarms, commands and their interlocks, and the events they raise."""
