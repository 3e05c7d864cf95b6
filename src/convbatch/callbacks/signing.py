"""Signature headers of webhook callbacks: an HMAC-SHA256 over the exact body bytes, a fresh
nonce and the signing time, so a receiver holding the secret can tell the call is ours."""

from __future__ import annotations

import base64
import hashlib
import hmac

from convbatch.ids import new_ulids

ALGORITHM = "HmacSHA256"
SIGNATURE = "x-sinch-webhook-signature"
NONCE = "x-sinch-webhook-signature-nonce"
TIMESTAMP = "x-sinch-webhook-signature-timestamp"
ALGORITHM_HEADER = "x-sinch-webhook-signature-algorithm"
NONCE_BATCH = 256
_nonces: list[str] = []


def signature(secret: str, body: bytes, nonce: str, timestamp: str) -> str:
    """Base64 (padded) HMAC-SHA256 of ``body.nonce.timestamp`` keyed by ``secret``."""
    signed = b".".join((body, nonce.encode(), timestamp.encode()))
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signature_headers(
    secret: str, body: bytes, epoch_seconds: int, nonce: str | None = None
) -> dict[str, str]:
    """The four signature headers for ``body``; a new ULID nonce unless one is given."""
    nonce = nonce or _next_nonce()
    timestamp = str(epoch_seconds)
    return {
        SIGNATURE: signature(secret, body, nonce, timestamp),
        NONCE: nonce,
        TIMESTAMP: timestamp,
        ALGORITHM_HEADER: ALGORITHM,
    }


def _next_nonce() -> str:
    """A fresh ULID nonce. They are made 256 at a time: one read of random bytes per request
    was a visible share of a busy sender's time."""
    if not _nonces:
        _nonces.extend(new_ulids(NONCE_BATCH))
    return _nonces.pop()
