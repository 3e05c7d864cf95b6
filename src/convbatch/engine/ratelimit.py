"""Global rate limits per (app, channel), shared by every worker process through the database.

Each (app, channel) has one row holding the next free send slot. A round reserves one slot per
message, spaced 1/rate apart: messages whose slot has come are sent at once, the others go back
to the queue due exactly at their slot, already holding it (so they are not counted twice and
not reshuffled by later rounds). An idle limiter lets at most one burst go at once.
"""

from __future__ import annotations

from sqlalchemy import text

from convbatch.db.engine import Database

# How much capacity may go at once, in seconds of the rate: what an idle limiter may spend, and
# how late a message may be claimed after its slot and still use it. Half a second absorbs the
# scheduling jitter of busy workers without letting a backlog through in one go.
BURST_SECONDS = 0.5
# reason_code of a message that waits in the queue for the slot it reserved.
RATE_SLOT = "RATE_LIMIT_SLOT"
# A message claimed later than this after its slot takes a new one, so a backlog cannot burst.
LATE_MS = int(BURST_SECONDS * 1000)


def burst_for(rate: float) -> float:
    return max(1.0, rate * BURST_SECONDS)


class RateLimiter:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def reserve(
        self, app_id: str, channel: str, rate: float, count: int, now_ms: int
    ) -> list[int]:
        """Reserve ``count`` consecutive slots; returns each one's time (ms), in order."""
        interval = 1000.0 / rate
        earliest = now_ms - (burst_for(rate) - 1) * interval
        lock = " FOR UPDATE" if not self.db.is_sqlite else ""
        key = {"app": app_id, "channel": channel}
        async with self.db.transaction() as conn:
            await conn.execute(
                text(
                    "INSERT INTO rate_buckets (app_id, channel, next_slot_at) VALUES "
                    "(:app, :channel, :now) ON CONFLICT (app_id, channel) DO NOTHING"
                ),
                {**key, "now": now_ms},
            )
            stored = (
                await conn.execute(
                    text(
                        "SELECT next_slot_at FROM rate_buckets WHERE app_id = :app "
                        f"AND channel = :channel{lock}"
                    ),
                    key,
                )
            ).scalar_one()
            first = max(float(stored), earliest)
            slots = [int(first + i * interval) for i in range(count)]
            await conn.execute(
                text(
                    "UPDATE rate_buckets SET next_slot_at = :next "
                    "WHERE app_id = :app AND channel = :channel"
                ),
                {**key, "next": first + count * interval},
            )
        return slots
