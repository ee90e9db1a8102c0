"""Configuration: the bridge configuration file and the add-on options it is generated from."""
