"""ULID identifiers (26 characters of Crockford base32), as Sinch uses for every id."""

from __future__ import annotations

import base64
import os
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALID = frozenset(_ALPHABET)
_TO_CROCKFORD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _ALPHABET.encode())


def new_ulid(now_ms: int | None = None) -> str:
    """A new ULID: 48 bits of milliseconds then 80 random bits."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    return _time_part(ms) + _b32(os.urandom(10))


def new_ulids(count: int) -> list[str]:
    """Many ULIDs at once: one clock read, and the random parts encoded in a single call
    (80 random bits are exactly 10 bytes, 16 characters), which makes a 1000-id batch cheap."""
    prefix = _time_part(int(time.time() * 1000))
    text = _b32(os.urandom(10 * count))
    return [prefix + text[i : i + 16] for i in range(0, 16 * count, 16)]


def _time_part(ms: int) -> str:
    """The first 10 characters: two zero bits and 48 bits of milliseconds."""
    chars = []
    for _ in range(10):
        chars.append(_ALPHABET[ms & 31])
        ms >>= 5
    return "".join(reversed(chars))


def _b32(data: bytes) -> str:
    # RFC 4648 base32 does the bit slicing in C; only its alphabet differs from Crockford's.
    return base64.b32encode(data).translate(_TO_CROCKFORD).decode()


def is_ulid(text: str) -> bool:
    return len(text) == 26 and text[0] in "01234567" and set(text) <= _VALID
