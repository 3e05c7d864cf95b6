"""Page sizes and opaque page tokens shared by the Conversation API list endpoints.

A token is the sort key of the last item of the page, JSON-encoded and base64url'd, tagged with
the kind of list it belongs to so a token from one list is refused by another.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import msgspec

from convbatch.errors import InvalidArgument


def page_size(raw: str | None, default: int, maximum: int) -> int:
    """The requested page size; values above ``maximum`` are lowered to it."""
    if raw is None or raw == "":
        return default
    try:
        size = int(raw)
    except ValueError:
        raise InvalidArgument.field("page_size", f"'{raw}' is not an integer") from None
    if size < 1:
        raise InvalidArgument.field("page_size", "must be at least 1")
    return min(size, maximum)


def encode_token(kind: str, key: list[Any]) -> str:
    raw = msgspec.json.encode([kind, *key])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(
    raw: str | None, kind: str, length: int, types: tuple[type, ...] | None = None
) -> list[Any] | None:
    """The sort key stored in ``raw``; None when no token was given. Each part must have the
    type ``types`` says (strings by default): a hand-made token is a 400, never a query error."""
    if not raw:
        return None
    try:
        padded = raw + "=" * (-len(raw) % 4)
        values = msgspec.json.decode(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, msgspec.DecodeError):
        values = None
    expected = types or (str,) * length
    if (
        not isinstance(values, list)
        or len(values) != length + 1
        or values[0] != kind
        or not all(
            type(value) is want and len(str(value)) <= 64
            for value, want in zip(values[1:], expected, strict=True)
        )
    ):
        raise InvalidArgument.field("page_token", "not a token returned by this list")
    return values[1:]
