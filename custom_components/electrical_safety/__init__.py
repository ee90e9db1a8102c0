"""Electrical Safety: Home Assistant's view of the electrical-safety bridge.

The integration is built by a later issue; for now the package holds its manifest so that
HACS and the import-boundary test see the layout of design.md.
"""

DOMAIN = "electrical_safety"
