"""mDNS advertisement of a standalone bridge, so Home Assistant finds it by zeroconf.

Inside the add-on, Supervisor discovery does this job (and the add-on's network does not
carry multicast), so the service only advertises when it runs standalone and listens on an
address other hosts can reach.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Sequence

from zeroconf import IPVersion
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from .. import __version__

_LOGGER = logging.getLogger(__name__)

#: DNS-SD service type; a service name is at most 15 bytes (RFC 6763 §7.2).
SERVICE_TYPE = "_elecsafety._tcp.local."


def service_info(
    bridge_id: str, port: int, addresses: Sequence[str], api_version: int = 1
) -> AsyncServiceInfo:
    """The DNS-SD record: TXT carries the bridge id (Home Assistant's unique id)."""
    short = bridge_id[:8]
    return AsyncServiceInfo(
        SERVICE_TYPE,
        f"Electrical Safety bridge {short}.{SERVICE_TYPE}",
        addresses=[ipaddress.ip_address(a).packed for a in addresses],
        port=port,
        properties={
            "bridge_id": bridge_id,
            "api_version": str(api_version),
            "version": __version__,
        },
        server=f"es-bridge-{short}.local.",
    )


def advertised_addresses(api_host: str) -> list[str]:
    """The addresses to publish for an API bound to ``api_host``."""
    if api_host in ("0.0.0.0", "::", ""):
        try:
            infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
        except OSError:
            infos = []
        return sorted({str(i[4][0]) for i in infos if not str(i[4][0]).startswith("127.")})
    return [api_host]


class Advertiser:
    """Registers the bridge on start and withdraws it on stop."""

    def __init__(
        self,
        bridge_id: str,
        port: int,
        addresses: Sequence[str],
        interfaces: Sequence[str] | None = None,
    ) -> None:
        self.info = service_info(bridge_id, port, addresses)
        self._interfaces = list(interfaces) if interfaces else None
        self._zeroconf: AsyncZeroconf | None = None

    async def start(self) -> None:
        """Publish the record; a network without multicast is logged, not fatal."""
        try:
            if self._interfaces:
                self._zeroconf = AsyncZeroconf(
                    interfaces=self._interfaces, ip_version=IPVersion.V4Only
                )
            else:
                self._zeroconf = AsyncZeroconf(ip_version=IPVersion.V4Only)
            # The first await registers; the second waits for the announcements to go out.
            announcing = await self._zeroconf.async_register_service(
                self.info, allow_name_change=True
            )
            await announcing
        except (OSError, ValueError) as exc:
            _LOGGER.warning("mDNS advertisement unavailable: %s", exc)
            await self.stop()

    async def stop(self) -> None:
        """Withdraw the record."""
        if self._zeroconf is None:
            return
        zeroconf, self._zeroconf = self._zeroconf, None
        try:
            await zeroconf.async_unregister_all_services()
        except (OSError, ValueError) as exc:
            _LOGGER.debug("mDNS withdrawal failed: %s", exc)
        finally:
            await zeroconf.async_close()
