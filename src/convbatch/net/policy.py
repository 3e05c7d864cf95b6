"""Which addresses the server may reach when a tenant names a URL (webhook targets, a batch's
``callback_url``, driver URLs).

A tenant must not be able to point the server at the machine itself, at the operator's private
network or at a cloud metadata service. Every address is refused unless it is a public unicast
address or the operator opened it on purpose with ``CONVBATCH_OUTBOUND_ALLOW`` (a
comma-separated list of CIDRs and host names). Addresses embedding an IPv4 address (IPv4-mapped,
6to4, NAT64, Teredo) are judged by the address they embed.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
ALLOW_VARIABLE = "CONVBATCH_OUTBOUND_ALLOW"
LOCAL_DEVELOPMENT_ALLOW = "127.0.0.0/8,::1"

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


def embedded_ipv4(address: IpAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64, Teredo), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_problem(address: IpAddress) -> str | None:
    """Why ``address`` may not be reached without an allowlist entry; None for a public one."""
    inner = embedded_ipv4(address)
    if inner is not None:
        return address_problem(inner)
    checks = (
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (isinstance(address, ipaddress.IPv4Address) and address in _CGNAT, "a CGNAT address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "not a public address"),
    )
    return next((reason for failed, reason in checks if failed), None)


@dataclass(frozen=True)
class OutboundPolicy:
    networks: tuple[IpNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, raw: str) -> OutboundPolicy:
        networks: list[IpNetwork] = []
        hosts: set[str] = set()
        for item in (part.strip() for part in raw.split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                hosts.add(item.lower().rstrip("."))
        return cls(tuple(networks), frozenset(hosts))

    def describe(self) -> str:
        items = [str(n) for n in self.networks] + sorted(self.hosts)
        return ", ".join(items) if items else "nothing"

    def host_allowed(self, host: str) -> bool:
        """An allowlisted host name may resolve to any address."""
        return host.lower().rstrip(".") in self.hosts

    def refusal(self, address: IpAddress) -> str | None:
        """None when the address may be reached, else why not."""
        if any(address.version == n.version and address in n for n in self.networks):
            return None
        inner = embedded_ipv4(address)
        if inner is not None and any(inner in n for n in self.networks if n.version == 4):
            return None
        return address_problem(address)


_cache: tuple[str, OutboundPolicy] | None = None


def current_policy() -> OutboundPolicy:
    """The policy of ``CONVBATCH_OUTBOUND_ALLOW`` as the environment says now."""
    global _cache
    raw = os.environ.get(ALLOW_VARIABLE, "")
    if _cache is None or _cache[0] != raw:
        _cache = (raw, OutboundPolicy.parse(raw))
    return _cache[1]
