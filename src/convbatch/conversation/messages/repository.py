"""Queries over the messages ledger for the read endpoints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, select, tuple_
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.db.tables import batches, messages

_COLUMNS = (
    messages.c.id, messages.c.app_id, messages.c.batch_id, messages.c.idx, messages.c.payload,
    messages.c.state, messages.c.channel, messages.c.identity, messages.c.delivery_status,
    messages.c.reason_code, messages.c.reason_description, messages.c.created_at,
    batches.c.request.label("batch_request"),
)  # fmt: skip


@dataclass(frozen=True)
class MessageFilter:
    app_id: str | None = None
    batch_id: str | None = None
    channel: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None


def _base(project_id: str) -> Select:
    # The batch's request holds the message template and the options shared by its recipients.
    return (
        select(*_COLUMNS)
        .select_from(messages.outerjoin(batches, batches.c.id == messages.c.batch_id))
        .where(messages.c.project_id == project_id)
    )


async def get_message_row(conn: AsyncConnection, project_id: str, message_id: str) -> Row | None:
    query = _base(project_id).where(messages.c.id == message_id)
    return (await conn.execute(query)).first()


async def list_message_rows(
    conn: AsyncConnection,
    project_id: str,
    filters: MessageFilter,
    after: tuple[int, int, str] | None,
    limit: int,
) -> Sequence[Row]:
    """Matching rows in acceptance order (then recipient index), starting after ``after``."""
    query = _base(project_id)
    if filters.app_id is not None:
        query = query.where(messages.c.app_id == filters.app_id)
    if filters.batch_id is not None:
        query = query.where(messages.c.batch_id == filters.batch_id)
    if filters.channel is not None:
        query = query.where(messages.c.channel == filters.channel)
    if filters.start_ms is not None:
        query = query.where(messages.c.created_at >= filters.start_ms)
    if filters.end_ms is not None:
        query = query.where(messages.c.created_at < filters.end_ms)
    key = tuple_(messages.c.created_at, messages.c.idx, messages.c.id)
    if after is not None:
        query = query.where(key > tuple_(*after))
    order = (messages.c.created_at, messages.c.idx, messages.c.id)
    return (await conn.execute(query.order_by(*order).limit(limit))).all()
