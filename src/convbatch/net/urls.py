"""Request-time checks of URLs a tenant gives the server to call: refuse at once what the
outbound policy would refuse at connect time when the host alone tells (an address literal in
any spelling, ``localhost``). Names are resolved only when connecting (see ``session``)."""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

from convbatch.errors import InvalidArgument
from convbatch.net.policy import IpAddress, current_policy

# inet_aton reads 2130706433, 0x7f000001, 0177.0.0.1 and 127.1 as 127.0.0.1; so do resolvers.
_NUMERIC_V4 = re.compile(r"^[0-9a-fA-FxX.]+$")


def literal_address(host: str) -> IpAddress | None:
    """The address a host string spells, in any of the forms a resolver accepts; None for names."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if _NUMERIC_V4.match(host) and any(c.isdigit() for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def check_outbound_url(field: str, url: str) -> None:
    """400 naming ``field`` unless ``url`` is http(s) with a host the server may reach."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise InvalidArgument.field(field, "is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise InvalidArgument.field(field, f"'{_shown(url)}' is not an http(s) URL")
    policy = current_policy()
    if policy.host_allowed(host):
        return
    if host == "localhost" or host.endswith((".localhost", ".localhost.")) or host == "localhost.":
        address: IpAddress | None = ipaddress.ip_address("127.0.0.1")
    else:
        address = literal_address(host)
    if address is None:
        return
    reason = policy.refusal(address)
    if reason is not None:
        raise InvalidArgument.field(
            field, f"host {host} is {reason}; the server does not send there"
        )


def _shown(url: str) -> str:
    """The URL without any password, for an error message."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":********@", 1)
    return parts._replace(netloc=netloc).geturl()
