"""SQL of the console's reads: pages of batches, recipients, sandbox messages, deliveries,
contacts and consents, always within one project. Writes go through the features' services."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.batches.repository import STATUS_COLUMNS
from convbatch.db.tables import (
    apps,
    batch_metadata,
    batches,
    consents,
    contacts,
    messages,
    sandbox_inbox,
    webhook_deliveries,
)


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its own wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class BatchFilter:
    status: str | None = None
    meta_key: str | None = None
    meta_value: str | None = None


async def batch_page(
    conn: AsyncConnection, project_id: str, filters: BatchFilter,
    before: tuple[int, str] | None, limit: int,
) -> Sequence[Row]:  # fmt: skip
    """Message batches newest first, starting below ``before`` (created_at, id)."""
    query = select(*STATUS_COLUMNS, batches.c.app_id, batches.c.created_at).where(
        batches.c.project_id == project_id, batches.c.batch_type == "MESSAGES"
    )
    if filters.status:
        query = query.where(batches.c.status == filters.status)
    if filters.meta_key:
        tagged = select(batch_metadata.c.batch_id).where(
            batch_metadata.c.project_id == project_id, batch_metadata.c.key == filters.meta_key
        )
        if filters.meta_value:
            tagged = tagged.where(batch_metadata.c.value == filters.meta_value)
        query = query.where(batches.c.id.in_(tagged))
    if before is not None:
        at, last_id = before
        query = query.where(
            or_(batches.c.created_at < at, and_(batches.c.created_at == at, batches.c.id < last_id))
        )
    order = (batches.c.created_at.desc(), batches.c.id.desc())
    return (await conn.execute(query.order_by(*order).limit(limit))).all()


async def batch_row(conn: AsyncConnection, project_id: str, batch_id: str) -> Row | None:
    query = select(
        *STATUS_COLUMNS, batches.c.app_id, batches.c.created_at, batches.c.updated_at,
        batches.c.request,
    ).where(batches.c.id == batch_id, batches.c.project_id == project_id,
            batches.c.batch_type == "MESSAGES")  # fmt: skip
    return (await conn.execute(query)).first()


_RECIPIENT_COLUMNS = (
    messages.c.id, messages.c.idx, messages.c.payload, messages.c.state, messages.c.channel,
    messages.c.identity, messages.c.delivery_status, messages.c.reason_code,
    messages.c.reason_description, messages.c.created_at, messages.c.updated_at,
    sandbox_inbox.c.body, sandbox_inbox.c.received_at, sandbox_inbox.c.receipt_plan,
)  # fmt: skip


async def recipients(
    conn: AsyncConnection, project_id: str, batch_id: str, first_idx: int, limit: int,
    identity: str | None = None,
) -> Sequence[Row]:  # fmt: skip
    """A page of a batch's messages by recipient index (the (batch_id, idx) index), with what
    the sandbox channel received for each; or those whose identity contains ``identity``."""
    query = (
        select(*_RECIPIENT_COLUMNS)
        .select_from(messages.outerjoin(sandbox_inbox, sandbox_inbox.c.message_id == messages.c.id))
        .where(messages.c.batch_id == batch_id, messages.c.project_id == project_id)
    )
    if identity:
        pattern = like_pattern(identity)
        # Before a message is sent its identity is only in the request's recipient entry.
        unsent = and_(messages.c.identity.is_(None), messages.c.payload.like(pattern, escape="\\"))
        query = query.where(or_(messages.c.identity.like(pattern, escape="\\"), unsent))
    else:
        query = query.where(messages.c.idx >= first_idx, messages.c.idx < first_idx + limit)
    return (await conn.execute(query.order_by(messages.c.idx).limit(limit))).all()


async def project_app_ids(conn: AsyncConnection, project_id: str) -> list[str]:
    query = select(apps.c.id).where(apps.c.project_id == project_id).order_by(apps.c.created_at)
    return [row.id for row in await conn.execute(query)]


_INBOX_COLUMNS = (
    sandbox_inbox.c.message_id, sandbox_inbox.c.batch_id, sandbox_inbox.c.app_id,
    sandbox_inbox.c.channel, sandbox_inbox.c.identity, sandbox_inbox.c.body,
    sandbox_inbox.c.received_at, sandbox_inbox.c.receipt_plan,
)  # fmt: skip


async def inbox_newest(
    conn: AsyncConnection, app_ids: Sequence[str], identity: str | None, limit: int,
    exact_identity: str | None = None,
) -> Sequence[Row]:  # fmt: skip
    """The newest sandbox messages of the apps: of identities containing ``identity``, or of
    ``exact_identity`` alone, or all."""
    if not app_ids:
        return []
    query = select(*_INBOX_COLUMNS).where(sandbox_inbox.c.app_id.in_(list(app_ids)))
    if exact_identity:
        query = query.where(sandbox_inbox.c.identity == exact_identity)
    elif identity:
        query = query.where(sandbox_inbox.c.identity.like(like_pattern(identity), escape="\\"))
    order = (sandbox_inbox.c.received_at.desc(), sandbox_inbox.c.message_id.desc())
    return (await conn.execute(query.order_by(*order).limit(limit))).all()


async def inbox_after(
    conn: AsyncConnection, app_ids: Sequence[str], after: tuple[int, str], limit: int
) -> Sequence[Row]:
    """Sandbox messages received after ``after`` (received_at, message_id), oldest first."""
    if not app_ids:
        return []
    at, last_id = after
    later = or_(
        sandbox_inbox.c.received_at > at,
        and_(sandbox_inbox.c.received_at == at, sandbox_inbox.c.message_id > last_id),
    )
    query = select(*_INBOX_COLUMNS).where(sandbox_inbox.c.app_id.in_(list(app_ids)), later)
    order = (sandbox_inbox.c.received_at, sandbox_inbox.c.message_id)
    return (await conn.execute(query.order_by(*order).limit(limit))).all()


async def recent_deliveries(conn: AsyncConnection, project_id: str, limit: int) -> Sequence[Row]:
    d = webhook_deliveries
    query = select(
        d.c.id, d.c.app_id, d.c.target, d.c.trigger, d.c.state, d.c.attempts, d.c.last_status,
        d.c.last_error, d.c.batch_id, d.c.message_id, d.c.updated_at,
    ).where(d.c.project_id == project_id)  # fmt: skip
    return (await conn.execute(query.order_by(d.c.id.desc()).limit(limit))).all()


async def contact_docs(
    conn: AsyncConnection, project_id: str, text: str | None, limit: int
) -> list[str]:
    """Contacts (their stored JSON) whose any field contains ``text``, oldest first."""
    query = select(contacts.c.doc).where(contacts.c.project_id == project_id)
    if text:
        query = query.where(contacts.c.doc.like(like_pattern(text), escape="\\"))
    rows = await conn.execute(query.order_by(contacts.c.id).limit(limit))
    return [row.doc for row in rows]


async def consent_rows(
    conn: AsyncConnection, project_id: str, identity: str | None, limit: int
) -> Sequence[Row]:
    query = select(consents).where(consents.c.project_id == project_id)
    if identity:
        query = query.where(consents.c.identity.like(like_pattern(identity), escape="\\"))
    order = (consents.c.created_at.desc(), consents.c.identity)
    return (await conn.execute(query.order_by(*order).limit(limit))).all()
