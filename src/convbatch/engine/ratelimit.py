"""Global rate limits per (app, channel): a token bucket stored in the database, so every worker
process draws from the same bucket and the sum never exceeds the limit."""

from __future__ import annotations

import math

from sqlalchemy import text

from convbatch.db.engine import Database

# Tokens a bucket can hold, in seconds of its rate: small, so the rate holds even over short
# windows, but at least one message.
BURST_SECONDS = 0.1


def burst_for(rate: float) -> float:
    return max(1.0, rate * BURST_SECONDS)


class RateLimiter:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def acquire(self, app_id: str, channel: str, rate: float, want: int, now_ms: int) -> int:
        """How many of ``want`` messages may be sent now (0..want)."""
        burst = burst_for(rate)
        lock = " FOR UPDATE" if not self.db.is_sqlite else ""
        key = {"app": app_id, "channel": channel}
        async with self.db.transaction() as conn:
            await conn.execute(
                text(
                    "INSERT INTO rate_buckets (app_id, channel, tokens, updated_at) VALUES "
                    "(:app, :channel, :tokens, :now) ON CONFLICT (app_id, channel) DO NOTHING"
                ),
                {**key, "tokens": burst, "now": now_ms},
            )
            row = (
                await conn.execute(
                    text(
                        "SELECT tokens, updated_at FROM rate_buckets WHERE app_id = :app "
                        f"AND channel = :channel{lock}"
                    ),
                    key,
                )
            ).one()
            elapsed = max(0, now_ms - row.updated_at) / 1000
            tokens = min(burst, row.tokens + elapsed * rate)
            granted = min(want, math.floor(tokens))
            await conn.execute(
                text(
                    "UPDATE rate_buckets SET tokens = :tokens, updated_at = :now "
                    "WHERE app_id = :app AND channel = :channel"
                ),
                {**key, "tokens": tokens - granted, "now": max(now_ms, row.updated_at)},
            )
        return granted
