"""Batch status transitions the engine makes (SCHEDULED → READY → PROCESSED) and the callbacks
they cause, written through the transaction's outbox."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.callbacks.outbox import BatchFacts, Outbox, batch_counts
from convbatch.clock import epoch_ms
from convbatch.db.tables import messages
from convbatch.engine import queries


async def _failures(conn: AsyncConnection, batch_id: str) -> list[dict[str, Any]]:
    query = (
        select(messages.c.idx, messages.c.id, messages.c.reason_code, messages.c.reason_description)
        .where(messages.c.batch_id == batch_id, messages.c.state.in_(("FAILED", "EXPIRED")))
        .order_by(messages.c.idx)
    )
    return [
        {"message_index": r.idx, "message_id": r.id,
         "reason": {"code": r.reason_code or "UNKNOWN", "description": r.reason_description or ""}}
        for r in await conn.execute(query)
    ]  # fmt: skip


async def finish_batches(conn: AsyncConnection, batch_ids: list[str], outbox: Outbox) -> None:
    """Mark batches with nothing left queued PROCESSED; emit the status update and the report."""
    for row in await queries.mark_processed(conn, batch_ids, epoch_ms(outbox.now)):
        if row.operation == "SINGLE":
            continue  # a single send's carrier batch is internal: no batch callbacks
        batch = BatchFacts.of(row)
        outbox.batch_status(batch, "PROCESSED")
        outbox.processing_report(batch, batch_counts(row),
                                 partial(_failures, batch_id=row.id))  # fmt: skip


async def tick(conn: AsyncConnection, now: datetime) -> list[str]:
    """Make due scheduled batches READY; returns their ids."""
    found = await queries.make_due_batches_ready(conn, epoch_ms(now))
    outbox = Outbox(conn, now)
    for row in found:
        if row.app_id:
            outbox.batch_status(BatchFacts.of(row), "READY")
    await outbox.flush()
    return [row.id for row in found]
