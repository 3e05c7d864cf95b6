"""The rules that turn a requested ``send_after`` into the effective schedule."""

from __future__ import annotations

from datetime import datetime, timedelta

from convbatch.clock import parse_rfc3339
from convbatch.errors import InvalidArgument

IMMEDIATE_WINDOW = timedelta(minutes=1)
MAX_AHEAD = timedelta(days=7)
ROUNDING = timedelta(minutes=5)


def effective_send_after(requested: str | None, now: datetime) -> datetime | None:
    """None means "send now". Past or within a minute is now; later is rounded up to the next
    five-minute boundary; more than seven days ahead is refused."""
    if requested is None:
        return None
    try:
        when = parse_rfc3339(requested)
    except ValueError:
        raise InvalidArgument.field(
            "send_after", f"'{requested}' is not an RFC 3339 date-time (e.g. 2026-01-01T10:00:00Z)"
        ) from None
    if when - now > MAX_AHEAD:
        raise InvalidArgument.field("send_after", "must be at most 7 days in the future")
    if when - now <= IMMEDIATE_WINDOW:
        return None
    epoch = datetime(1970, 1, 1, tzinfo=when.tzinfo)
    remainder = (when - epoch) % ROUNDING
    return when if not remainder else when + (ROUNDING - remainder)
