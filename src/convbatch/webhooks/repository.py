"""Storage of webhooks, and the lookups the callback sender uses to find a trigger's targets."""

from __future__ import annotations

import msgspec
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.db.tables import webhooks
from convbatch.secrets.fields import webhook_leaves
from convbatch.secrets.sealing import sealed_json
from convbatch.webhooks.schemas import Webhook

_decoder = msgspec.json.Decoder(Webhook)


def _encode(webhook: Webhook) -> str:
    return sealed_json(webhook, webhook_leaves)


async def insert_webhook(
    conn: AsyncConnection, project_id: str, webhook: Webhook, now_ms: int
) -> None:
    await conn.execute(
        insert(webhooks).values(
            id=webhook.id,
            project_id=project_id,
            app_id=webhook.app_id,
            doc=_encode(webhook),
            created_at=now_ms,
        )
    )


async def get_webhook(conn: AsyncConnection, project_id: str, webhook_id: str) -> Webhook | None:
    query = select(webhooks.c.doc).where(
        webhooks.c.id == webhook_id, webhooks.c.project_id == project_id
    )
    row = (await conn.execute(query)).first()
    return None if row is None else _decoder.decode(row.doc)


async def replace_webhook(conn: AsyncConnection, project_id: str, webhook: Webhook) -> None:
    await conn.execute(
        update(webhooks)
        .where(webhooks.c.id == webhook.id, webhooks.c.project_id == project_id)
        .values(app_id=webhook.app_id, doc=_encode(webhook))
    )


async def delete_webhook_row(conn: AsyncConnection, project_id: str, webhook_id: str) -> bool:
    result = await conn.execute(
        delete(webhooks).where(webhooks.c.id == webhook_id, webhooks.c.project_id == project_id)
    )
    return bool(result.rowcount)


async def delete_webhooks_of_app(conn: AsyncConnection, project_id: str, app_id: str) -> None:
    await conn.execute(
        delete(webhooks).where(webhooks.c.app_id == app_id, webhooks.c.project_id == project_id)
    )


async def count_webhooks(conn: AsyncConnection, project_id: str, app_id: str) -> int:
    query = select(func.count()).where(
        webhooks.c.app_id == app_id, webhooks.c.project_id == project_id
    )
    return int((await conn.execute(query)).scalar_one())


async def webhooks_of_app(conn: AsyncConnection, project_id: str, app_id: str) -> list[Webhook]:
    query = (
        select(webhooks.c.doc)
        .where(webhooks.c.app_id == app_id, webhooks.c.project_id == project_id)
        .order_by(webhooks.c.created_at, webhooks.c.id)
    )
    return [_decoder.decode(row.doc) for row in await conn.execute(query)]


async def webhooks_for(
    conn: AsyncConnection, project_id: str, app_id: str, trigger: str
) -> list[Webhook]:
    """The app's webhooks subscribed to ``trigger`` (an app has at most five, so the trigger
    is matched here rather than in SQL)."""
    return [w for w in await webhooks_of_app(conn, project_id, app_id) if trigger in w.triggers]


async def project_webhooks_for(
    conn: AsyncConnection, project_id: str, trigger: str
) -> list[Webhook]:
    """Webhooks of every app of the project subscribed to ``trigger``: project-level events
    such as CONTACT_CREATE and CONTACT_DELETE go to all of them."""
    query = (
        select(webhooks.c.doc)
        .where(webhooks.c.project_id == project_id)
        .order_by(webhooks.c.app_id, webhooks.c.created_at, webhooks.c.id)
    )
    found = [_decoder.decode(row.doc) for row in await conn.execute(query)]
    return [w for w in found if trigger in w.triggers]
