"""ULID identifiers (26 characters of Crockford base32), as Sinch uses for every id."""

from __future__ import annotations

import os

from convbatch import clock

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALID = frozenset(_ALPHABET)
# Every byte value to the character of its low five bits: random bytes become random base32
# characters in one C call (256 is a multiple of 32, so each character stays uniform).
_RANDOM_CHAR = bytes(_ALPHABET.encode()[i & 31] for i in range(256))
RANDOM_CHARS = 16  # 80 random bits


def new_ulid(now_ms: int | None = None) -> str:
    """A new ULID: 48 bits of milliseconds then 80 random bits."""
    ms = clock.now_ms() if now_ms is None else now_ms
    return _time_part(ms) + _random_chars(RANDOM_CHARS)


def new_ulids(count: int) -> list[str]:
    """Many ULIDs at once: one clock read and one call for every random character, which
    makes a 1000-id batch cheap."""
    prefix = _time_part(clock.now_ms())
    text = _random_chars(RANDOM_CHARS * count)
    return [
        prefix + text[i : i + RANDOM_CHARS] for i in range(0, RANDOM_CHARS * count, RANDOM_CHARS)
    ]


def _time_part(ms: int) -> str:
    """The first 10 characters: two zero bits and 48 bits of milliseconds."""
    chars = []
    for _ in range(10):
        chars.append(_ALPHABET[ms & 31])
        ms >>= 5
    return "".join(reversed(chars))


def _random_chars(count: int) -> str:
    return os.urandom(count).translate(_RANDOM_CHAR).decode()


def is_ulid(text: str) -> bool:
    return len(text) == 26 and text[0] in "01234567" and set(text) <= _VALID
