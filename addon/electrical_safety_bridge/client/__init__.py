"""The async client of the bridge (aiohttp only): what Home Assistant requires."""

from .bridge_client import BridgeClient, check_schema, parse_snapshot

__all__ = ["BridgeClient", "check_schema", "parse_snapshot"]
