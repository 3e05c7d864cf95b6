"""Reading a phone identity from a query string as its sender meant it.

A ``+`` left unencoded in a query string is read as a space (form encoding), so
``identity=+4670...`` arrives as `` 4670...``; a client that encodes twice sends ``%2B4670...``.
Both mean ``+4670...``.
"""

from __future__ import annotations

import re

_LOST_PLUS = re.compile(r"^(?: +|%2[bB])(?=[0-9])")


def phone_plus(identity: str) -> str:
    """``identity`` with a leading space or ``%2B`` before digits read back as ``+``."""
    return _LOST_PLUS.sub("+", identity, count=1)
