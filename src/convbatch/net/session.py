"""aiohttp sessions that can only reach addresses the outbound policy allows.

The check happens where the connector resolves the host, on the very addresses it then connects
to: a name that resolved to a public address when the URL was accepted and to 127.0.0.1 now (DNS
rebinding) is refused here. Redirects are never followed (callers pass ``allow_redirects=False``),
and replies are read only up to a cap.
"""

from __future__ import annotations

import errno
import ipaddress
import os
from collections.abc import Sequence
from typing import Any

import aiohttp
from aiohttp.abc import ResolveResult

from convbatch.net.policy import current_policy

DEFAULT_RESPONSE_CAP = 64 * 1024


def response_cap() -> int:
    """Bytes read of a driver's or target's reply (CONVBATCH_OUTBOUND_MAX_RESPONSE_BYTES)."""
    return int(os.environ.get("CONVBATCH_OUTBOUND_MAX_RESPONSE_BYTES", DEFAULT_RESPONSE_CAP))


class OutboundRefused(OSError):
    """The host resolved only to addresses the outbound policy refuses."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.EACCES, message)  # aiohttp shows the strerror part


class GuardedConnector(aiohttp.TCPConnector):
    async def _resolve_host(
        self, host: str, port: int, traces: Sequence[Any] | None = None
    ) -> list[ResolveResult]:
        found = await super()._resolve_host(host, port, traces=traces)
        policy = current_policy()
        if policy.host_allowed(host):
            return found
        allowed, reasons = [], []
        for item in found:
            reason = policy.refusal(ipaddress.ip_address(item["host"].split("%", 1)[0]))
            if reason is None:
                allowed.append(item)
            else:
                reasons.append(reason)
        if not allowed:
            why = reasons[0] if reasons else "no address"
            raise OutboundRefused(f"{host} is {why}; the server does not connect there")
        return allowed


def guarded_session(
    limit: int = 100, timeout: aiohttp.ClientTimeout | None = None, **connector: Any
) -> aiohttp.ClientSession:
    """A session whose every connection goes through the outbound policy. No proxies from the
    environment, no cookies kept between requests."""
    return aiohttp.ClientSession(
        connector=GuardedConnector(limit=limit, **connector),
        timeout=timeout or aiohttp.ClientTimeout(total=10),
        trust_env=False,
        cookie_jar=aiohttp.DummyCookieJar(),
    )


async def read_capped(reply: aiohttp.ClientResponse, cap: int | None = None) -> tuple[bytes, bool]:
    """At most ``cap`` bytes of the body, and whether there was more (the rest is not read)."""
    limit = response_cap() if cap is None else cap
    data = bytearray()
    while len(data) <= limit:
        chunk = await reply.content.read(limit + 1 - len(data))
        if not chunk:
            return bytes(data), False
        data += chunk
    return bytes(data[:limit]), True


def failure_words(exc: BaseException) -> str:
    """How a failed outbound call is described to a tenant: our words, never the target's."""
    cause = exc
    while cause.__cause__ is not None and not isinstance(cause, OutboundRefused):
        cause = cause.__cause__
    if isinstance(cause, OutboundRefused) or isinstance(
        getattr(exc, "os_error", None), OutboundRefused
    ):
        return "address not allowed by the server's outbound policy"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return "could not connect"
    if isinstance(exc, aiohttp.InvalidURL):
        return "unusable URL"
    return "connection failed"
