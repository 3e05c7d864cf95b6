"""Self-contained bearer tokens: HMAC-signed, so checking one needs no database read.

The signing key lives in the database, so tokens stay valid across restarts and are accepted by
every process that shares the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

import msgspec

_PREFIX = "cbt1"


class _Claims(msgspec.Struct, array_like=True):
    project_id: str
    key_id: str
    expires_at: int  # epoch seconds


@dataclass(frozen=True)
class TokenInfo:
    project_id: str
    key_id: str
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def derived(self, purpose: str) -> TokenSigner:
        """A signer keyed for another purpose (console sessions, form tokens): what it signs
        is never accepted where this signer's tokens are, and the reverse."""
        return TokenSigner(hmac.new(self._key, purpose.encode(), hashlib.sha256).digest())

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())

    def issue(self, project_id: str, key_id: str, expires_at: int) -> str:
        body = _b64(msgspec.json.encode(_Claims(project_id, key_id, expires_at)))
        return f"{_PREFIX}.{body}.{self._mac(body)}"

    def verify(self, token: str) -> TokenInfo | None:
        """The token's claims if it is ours and untampered, else None. Expiry is the caller's
        check, so it can tell an expired token from a forged one."""
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != _PREFIX:
            return None
        if not hmac.compare_digest(parts[2], self._mac(parts[1])):
            return None
        try:
            claims = msgspec.json.decode(_unb64(parts[1]), type=_Claims)
        except (msgspec.DecodeError, ValueError):
            return None
        return TokenInfo(claims.project_id, claims.key_id, claims.expires_at)
