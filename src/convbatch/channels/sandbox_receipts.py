"""Plays back the sandbox's planned receipts when they fall due, through the engine's receipt
entry point, in the same transaction that advances each message's plan."""

from __future__ import annotations

import msgspec
from sqlalchemy import text

from convbatch.clock import Clock, epoch_ms
from convbatch.db.bulk import update_rows
from convbatch.db.engine import Database
from convbatch.engine.context import ContextCache
from convbatch.engine.receipts import Receipt, apply_receipts

_decode_plan = msgspec.json.Decoder(list[tuple[str, str | None, int]]).decode
_encode = msgspec.json.Encoder().encode
RETRY_NOT_YET_SENT_MS = 200  # a receipt that overtook the engine's own record waits this long

_PLAN_COLUMNS = (("receipt_plan", "text"), ("next_receipt_at", "bigint"))


async def pump_receipts(db: Database, clock: Clock, cache: ContextCache, limit: int = 1000) -> int:
    """Emit every due planned receipt (up to ``limit``); returns how many were offered."""
    now = clock.now()
    now_ms = epoch_ms(now)
    lock = " FOR UPDATE SKIP LOCKED" if not db.is_sqlite else ""
    async with db.transaction() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT message_id, receipt_plan FROM sandbox_inbox WHERE next_receipt_at "
                    f"<= :now ORDER BY next_receipt_at LIMIT :limit{lock}"
                ),
                {"now": now_ms, "limit": limit},
            )
        ).all()
        if not rows:
            return 0
        plans = {row.message_id: _decode_plan(row.receipt_plan) for row in rows}
        receipts = [Receipt(mid, plan[0][0], plan[0][1], _describe(plan[0][1]))
                    for mid, plan in plans.items()]  # fmt: skip
        deferred = await apply_receipts(conn, receipts, now, cache)
        updates: list[tuple[str, str, int | None]] = []
        for mid, plan in plans.items():
            if mid in deferred:
                updates.append((mid, _encode(plan).decode(), now_ms + RETRY_NOT_YET_SENT_MS))
                continue
            rest = plan[1:]
            updates.append((mid, _encode(rest).decode(), now_ms + rest[0][2] if rest else None))
        await update_rows(conn, "sandbox_inbox", "message_id", _PLAN_COLUMNS, updates)
    return len(rows)


def _describe(code: str | None) -> str | None:
    return None if code is None else f"sandbox: {code.lower().replace('_', ' ')}"
