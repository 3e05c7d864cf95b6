"""Queries over the messages ledger for the read endpoints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import msgspec
from sqlalchemy import Select, and_, func, not_, or_, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.db.tables import batches, messages

_COLUMNS = (
    messages.c.id, messages.c.app_id, messages.c.batch_id, messages.c.idx, messages.c.payload,
    messages.c.state, messages.c.channel, messages.c.identity, messages.c.delivery_status,
    messages.c.reason_code, messages.c.reason_description, messages.c.created_at,
    messages.c.updated_at, messages.c.metadata.label("stored_metadata"),
    batches.c.request.label("batch_request"),
)  # fmt: skip


@dataclass(frozen=True)
class MessageFilter:
    app_id: str | None = None
    batch_id: str | None = None
    channel: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    contact_id: str | None = None
    channel_identity: str | None = None
    # Processing mode of the messages wanted (messages_source): the DISPATCH ones are those of
    # ``dispatch_apps`` and those sent with DISPATCH_ONLY.
    mode: str | None = None
    dispatch_apps: tuple[str, ...] = ()


def _like_text(value: str) -> str:
    """``value`` for a LIKE pattern with ``\\`` as the escape character."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _json_text(value: str) -> str:
    return _like_text(msgspec.json.encode(value).decode())


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


def _filtered(query: Select, filters: MessageFilter) -> Select:
    simple = ((filters.app_id, messages.c.app_id), (filters.batch_id, messages.c.batch_id),
              (filters.channel, messages.c.channel))  # fmt: skip
    for value, column in simple:
        if value is not None:
            query = query.where(column == value)
    if filters.start_ms is not None:
        query = query.where(messages.c.created_at >= filters.start_ms)
    if filters.end_ms is not None:
        query = query.where(messages.c.created_at < filters.end_ms)
    if filters.contact_id is not None:
        # A recipient entry is stored as its canonical JSON, the recipient first.
        prefix = '{"recipient":{"contact_id":' + _json_text(filters.contact_id) + "}"
        query = query.where(or_(messages.c.contact_id == filters.contact_id,
                                messages.c.payload.like(prefix + "%", escape="\\")))  # fmt: skip
    if filters.channel_identity is not None:
        # The identity the message went to; before a channel is chosen, any it may go to.
        listed = '%"identity":' + _json_text(filters.channel_identity) + "}%"
        query = query.where(or_(
            messages.c.identity == filters.channel_identity,
            and_(messages.c.identity.is_(None), messages.c.payload.like(listed, escape="\\")),
        ))  # fmt: skip
    if filters.mode is not None:
        dispatch_only = batches.c.request.like('%"processing_strategy":"DISPATCH_ONLY"%')
        dispatch = or_(messages.c.app_id.in_(filters.dispatch_apps), dispatch_only)
        query = query.where(dispatch if filters.mode == "DISPATCH" else not_(dispatch))
    return query


async def list_message_rows(
    conn: AsyncConnection,
    project_id: str,
    filters: MessageFilter,
    after: tuple[int, str, int] | None,
    limit: int,
) -> Sequence[Row]:
    """Matching rows newest first by acceptance (a batch's messages in recipient order),
    starting after the row whose sort key is ``after``."""
    query = _filtered(_base(project_id), filters)
    group = func.coalesce(messages.c.batch_id, messages.c.id)
    if after is not None:
        created, batch_key, idx = after
        query = query.where(or_(
            messages.c.created_at < created,
            and_(messages.c.created_at == created,
                 or_(group < batch_key, and_(group == batch_key, messages.c.idx > idx))),
        ))  # fmt: skip
    order = (messages.c.created_at.desc(), group.desc(), messages.c.idx)
    return (await conn.execute(query.order_by(*order).limit(limit))).all()
