"""OAuth2 client-credentials tokens for upstream Conversation APIs, cached per access key.

A token is fetched once and shared by every concurrent send with the same key; it is renewed a
little before it expires (so a long batch never sends with a token about to lapse) or at once
when the upstream refuses it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
import msgspec

from convbatch.net.session import failure_words, read_capped

# Renew this long before expiry, or after this share of the lifetime for short-lived tokens.
REFRESH_MARGIN_S = 60.0
REFRESH_SHARE = 0.1


class TokenError(Exception):
    """The token endpoint refused the key (``permanent``) or could not be reached."""

    def __init__(self, message: str, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class AccessKey:
    auth_url: str  # origin of the token endpoint; the token URL is {auth_url}/oauth2/token
    key_id: str
    key_secret: str

    @property
    def cache_key(self) -> tuple[str, str, str]:
        digest = hashlib.sha256(self.key_secret.encode()).hexdigest()
        return (self.auth_url.rstrip("/"), self.key_id, digest)


@dataclass(slots=True)
class _Token:
    value: str
    renew_at: float  # monotonic seconds


class TokenCache:
    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._tokens: dict[tuple[str, str, str], _Token] = {}
        self._locks: dict[tuple[str, str, str], asyncio.Lock] = {}
        self._monotonic = monotonic

    async def token(self, session: aiohttp.ClientSession, key: AccessKey, timeout: float) -> str:
        """A valid bearer token for ``key``; one fetch at a time per key."""
        cache_key = key.cache_key
        found = self._tokens.get(cache_key)
        if found is not None and found.renew_at > self._monotonic():
            return found.value
        lock = self._locks.setdefault(cache_key, asyncio.Lock())
        async with lock:
            found = self._tokens.get(cache_key)  # another sender may have renewed it meanwhile
            if found is not None and found.renew_at > self._monotonic():
                return found.value
            value, lifetime = await _fetch(session, key, timeout)
            margin = min(REFRESH_MARGIN_S, lifetime * REFRESH_SHARE)
            self._tokens[cache_key] = _Token(value, self._monotonic() + lifetime - margin)
            return value

    def invalidate(self, key: AccessKey, value: str) -> None:
        """Forget ``value`` (refused upstream) unless a newer token has replaced it already."""
        found = self._tokens.get(key.cache_key)
        if found is not None and found.value == value:
            del self._tokens[key.cache_key]


def _basic(key: AccessKey) -> str:
    pair = f"{key.key_id}:{key.key_secret}".encode()
    return "Basic " + base64.b64encode(pair).decode()


async def _fetch(
    session: aiohttp.ClientSession, key: AccessKey, timeout: float
) -> tuple[str, float]:
    url = key.auth_url.rstrip("/") + "/oauth2/token"
    try:
        async with session.post(
            url,
            data={"grant_type": "client_credentials"},
            headers={"Authorization": _basic(key)},
            timeout=aiohttp.ClientTimeout(total=timeout),
            allow_redirects=False,
        ) as reply:
            raw, _cut = await read_capped(reply)
            status = reply.status
        body = msgspec.json.decode(raw) if raw.strip() else {}
    except (aiohttp.ClientError, TimeoutError) as exc:
        words = failure_words(exc)
        raise TokenError(f"token request failed: {words}", permanent=False) from exc
    except msgspec.DecodeError:
        body = None
    if status >= 400 or not isinstance(body, dict) or "access_token" not in body:
        # 5xx and 429 may pass; anything else means the key or the URL is wrong. The reply's
        # body is not repeated: the URL is the tenant's, the reason is read by the tenant.
        permanent = status < 500 and status != 429
        raise TokenError(f"token endpoint answered {status} without a token", permanent)
    return str(body["access_token"]), float(body.get("expires_in") or 3600)
