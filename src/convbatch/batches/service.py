"""Accepting, reading and cancelling message batches. Functions take a connection opened by the
caller (the request owns the transaction) and never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC as _UTC
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.apps.service import app_named_in_body
from convbatch.batches import repository as repo
from convbatch.batches.schedule import effective_send_after
from convbatch.batches.schemas import (
    BatchCounts,
    BatchStatus,
    CancelBatchRequest,
    SendBatchRequest,
    SendBatchResponse,
)
from convbatch.batches.validate import check_against_app, check_request
from convbatch.callbacks.outbox import BatchFacts, Outbox
from convbatch.callbacks.subscriptions import Subscriptions
from convbatch.clock import epoch_ms, to_rfc3339
from convbatch.errors import InvalidArgument, NotFound
from convbatch.ids import new_ulid, new_ulids
from convbatch.quotas import check_room_for_messages

_encode = msgspec.json.Encoder().encode
_decode_map = msgspec.json.Decoder(dict[str, str]).decode


@dataclass
class PreparedBatch:
    """A validated batch, encoded and ready to insert: built outside the write transaction so
    the writer is held only for the inserts."""

    batch: dict[str, Any]
    metadata: dict[str, str]
    messages: repo.NewMessages
    response: SendBatchResponse
    subscriptions: Subscriptions  # the project's webhooks, read while preparing


async def prepare_batch(
    conn: AsyncConnection, project_id: str, req: SendBatchRequest, now: datetime
) -> PreparedBatch:
    """Validate ``req`` (reads only) and encode its rows."""
    check_request(req)
    app = await app_named_in_body(conn, project_id, req.app_id)
    recipients = [item.recipient for item in req.recipient_and_params]
    check_against_app(req.channel_priority_order, app, recipients)
    await check_room_for_messages(conn, project_id, len(req.recipient_and_params))
    send_after = effective_send_after(req.send_after, now)

    now_ms = epoch_ms(now)
    due_ms = now_ms if send_after is None else epoch_ms(send_after)
    state = "QUEUED" if send_after is None else "SCHEDULED"
    batch_id = new_ulid(now_ms)
    count = len(req.recipient_and_params)
    meta = req.batch_metadata or {}
    batch = {
        "id": batch_id,
        "project_id": project_id,
        "app_id": req.app_id,
        "batch_type": "MESSAGES",
        "operation": "SEND",
        "status": "READY" if send_after is None else "SCHEDULED",
        "send_after": None if send_after is None else due_ms,
        "metadata": _encode(meta).decode(),
        "request": _encode(req.options()).decode(),
        "total": count,
        "queued": count,
        "created_at": now_ms,
        "updated_at": now_ms,
    }
    ids = new_ulids(count)
    new = repo.NewMessages(project_id, req.app_id, batch_id, state, due_ms, now_ms, [
        (ids[idx], idx, _encode(item).decode()) for idx, item in enumerate(req.recipient_and_params)
    ])  # fmt: skip
    response = SendBatchResponse(batch_id, None if send_after is None else to_rfc3339(send_after))
    # Looked up here, not in the write transaction: a webhook added in between misses this
    # batch's first status, as it would had it been added a moment later.
    subscriptions = Subscriptions()
    await subscriptions.load(conn, [project_id])
    return PreparedBatch(batch, meta, new, response, subscriptions)


async def store_batch(
    conn: AsyncConnection, prepared: PreparedBatch, now: datetime
) -> SendBatchResponse:
    """Insert the batch, its metadata and its message rows in the caller's transaction, with
    the status callback of its first state when the app subscribes to it."""
    batch = prepared.batch
    await repo.insert_batch(conn, **batch)
    await repo.insert_metadata(conn, batch["id"], batch["project_id"], prepared.metadata)
    await repo.insert_messages(conn, prepared.messages)
    outbox = Outbox(conn, now, prepared.subscriptions)
    facts = BatchFacts(batch["id"], batch["project_id"], batch["app_id"], batch["batch_type"],
                       batch["send_after"], batch["metadata"])  # fmt: skip
    outbox.batch_status(facts, batch["status"])
    await outbox.flush()
    return prepared.response


async def emit_status(
    conn: AsyncConnection, batch_ids: list[str], status: str, now: datetime
) -> None:
    """BATCH_STATUS_UPDATE events for ``batch_ids`` now in ``status``, where subscribed."""
    if not batch_ids:
        return
    outbox = Outbox(conn, now)
    for row in await repo.status_event_rows(conn, batch_ids):
        if row.app_id:
            outbox.batch_status(BatchFacts.of(row), status)
    await outbox.flush()


def status_of(row: Row) -> BatchStatus:
    counts = BatchCounts(
        total=row.total,
        queued=row.queued,
        sent=row.sent,
        delivered=row.delivered,
        read=row.read,
        failed=row.failed,
        cancelled=row.cancelled,
        expired=row.expired,
    )
    send_after = None
    if row.send_after is not None:
        send_after = to_rfc3339(datetime.fromtimestamp(row.send_after / 1000, tz=_UTC))
    return BatchStatus(row.id, _decode_map(row.metadata), row.status, send_after, counts)


async def get_status(conn: AsyncConnection, project_id: str, batch_id: str) -> BatchStatus:
    row = await repo.get_status_row(conn, project_id, batch_id)
    if row is None:
        raise NotFound(f"Batch {batch_id} not found")
    return status_of(row)


async def list_by_metadata(
    conn: AsyncConnection, project_id: str, key: str | None, value: str | None
) -> list[BatchStatus]:
    if not key:
        raise InvalidArgument.field("metadataKey", "query parameter is required")
    if value is None:
        raise InvalidArgument.field("metadataValue", "query parameter is required")
    rows = await repo.status_rows_by_metadata(conn, project_id, key, value)
    return [status_of(row) for row in rows]


async def cancel(
    conn: AsyncConnection, project_id: str, req: CancelBatchRequest, now_ms: int
) -> list[str]:
    """Cancel what the request names; ids that do not exist or cannot be cancelled are ignored,
    as the API promises a 200 whatever the outcome (a request that names nothing included)."""
    ids = req.named_ids()
    metadata = req.named_metadata()
    if metadata is not None:
        ids += await repo.batch_ids_by_metadata(conn, project_id, *metadata)
    cancelled = await repo.cancel_scheduled(conn, project_id, sorted(set(ids)), now_ms)
    await emit_status(conn, cancelled, "CANCELLED", datetime.fromtimestamp(now_ms / 1000, _UTC))
    await repo.record_cancel_request(
        conn, new_ulid(now_ms), project_id, req, len(cancelled), now_ms
    )
    return cancelled
