"""Time source. Everything that reads the time takes a Clock so tests can move it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)

    def set(self, when: datetime) -> None:
        self._now = when


def epoch_ms(value: datetime) -> int:
    """Milliseconds since the Unix epoch: how every time is stored in the database."""
    return int(value.timestamp() * 1000)


def now_ms(clock: Clock | None = None) -> int:
    """The clock's time (the system's when none is given) in epoch milliseconds."""
    return epoch_ms(clock.now()) if clock is not None else int(time.time() * 1000)


def to_rfc3339(value: datetime) -> str:
    """UTC timestamp with a ``Z`` suffix, the way Sinch writes them."""
    value = value.astimezone(UTC)
    # Formatted by hand: strftime does not zero-pad years below 1000.
    text = (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
        f"T{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    )
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + "Z"


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 timestamp; raises ValueError. A timestamp without an offset is refused."""
    cleaned = text.strip()
    if cleaned[-1:] in ("z", "Z"):
        cleaned = cleaned[:-1] + "+00:00"
    # Python's parser takes at most 6 fractional digits; Sinch emits up to 9.
    if "." in cleaned:
        head, _, rest = cleaned.partition(".")
        digits = ""
        while rest and rest[0].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        cleaned = f"{head}.{(digits + '000000')[:6]}{rest}"
    if "T" not in cleaned.upper():
        raise ValueError("not an RFC 3339 date-time")
    parsed = datetime.fromisoformat(cleaned)
    if parsed.tzinfo is None:
        raise ValueError("timestamp has no UTC offset")
    return parsed.astimezone(UTC)
