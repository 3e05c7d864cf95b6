"""Batch status transitions the engine makes (SCHEDULED → READY → PROCESSED) and the callbacks
they cause, written in the transaction that makes the transition."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.callbacks import events as ev
from convbatch.callbacks.outbox import Event, add_events
from convbatch.callbacks.subscriptions import app_triggers
from convbatch.clock import epoch_ms
from convbatch.db.tables import messages
from convbatch.engine import queries

_decode_map = msgspec.json.Decoder(dict[str, str]).decode
COUNT_NAMES = ("queued", "sent", "delivered", "read", "failed", "cancelled", "expired")


class _Sink(Protocol):
    now: datetime
    events: list[Event]
    triggers: dict[str, frozenset[str]]


def _when(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC)


def status_event(row: Any, status: str, now: datetime) -> Event:
    """``row``: a batch row, or anything with its id, project_id, app_id, batch_type,
    send_after and metadata."""
    note = ev.batch_status_update(
        batch_id=row.id, status=status, batch_type=row.batch_type,
        send_after=_when(row.send_after), batch_metadata=_decode_map(row.metadata),
    )  # fmt: skip
    payload = ev.envelope(row.project_id, row.app_id or "", "batch_status_update_notification",
                          note, now)  # fmt: skip
    return Event(row.project_id, row.app_id or "", "BATCH_STATUS_UPDATE", payload, row.id)


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


async def finish_batches(conn: AsyncConnection, batch_ids: list[str], sink: _Sink) -> None:
    """Mark batches with nothing left queued PROCESSED; emit the status update and the report."""
    for row in await queries.mark_processed(conn, batch_ids, epoch_ms(sink.now)):
        if row.operation == "SINGLE":
            continue  # a single send's carrier batch is internal: no batch callbacks
        triggers = sink.triggers.get(row.app_id) or await app_triggers(conn, row.app_id)
        if "BATCH_STATUS_UPDATE" in triggers:
            sink.events.append(status_event(row, "PROCESSED", sink.now))
        if "BATCH_PROCESSING_REPORT" in triggers:
            counts = {"total": row.total, **{n: getattr(row, n) for n in COUNT_NAMES}}
            report = ev.processing_report(
                batch_id=row.id, batch_type=row.batch_type, counts=counts,
                failed=await _failures(conn, row.id),
            )  # fmt: skip
            key = "batch_processing_report_notification"
            payload = ev.envelope(row.project_id, row.app_id, key, report, sink.now)
            sink.events.append(
                Event(row.project_id, row.app_id, "BATCH_PROCESSING_REPORT", payload, row.id)
            )


async def tick(conn: AsyncConnection, now: datetime) -> list[str]:
    """Make due scheduled batches READY; returns their ids."""
    now_ms = epoch_ms(now)
    found = await queries.make_due_batches_ready(conn, now_ms)
    events = []
    for row in found:
        if row.app_id and "BATCH_STATUS_UPDATE" in await app_triggers(conn, row.app_id):
            events.append(status_event(row, "READY", now))
    await add_events(conn, events, now_ms)
    return [row.id for row in found]
