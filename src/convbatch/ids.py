"""ULID identifiers (26 characters of Crockford base32), as Sinch uses for every id."""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALID = frozenset(_ALPHABET)


def new_ulid(now_ms: int | None = None) -> str:
    """A new ULID: 48 bits of milliseconds then 80 random bits."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms << 80) | int.from_bytes(os.urandom(10), "big")
    return _encode(value)


def new_ulids(count: int) -> list[str]:
    """Many ULIDs at once: one clock read and one random read for the lot."""
    prefix = int(time.time() * 1000) << 80
    blob = os.urandom(10 * count)
    return [
        _encode(prefix | int.from_bytes(blob[i * 10 : i * 10 + 10], "big")) for i in range(count)
    ]


def _encode(value: int) -> str:
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def is_ulid(text: str) -> bool:
    return len(text) == 26 and text[0] in "01234567" and set(text) <= _VALID
