"""Per project quotas: how many apps and webhooks a project may have, and how many messages it
may have waiting to be sent. Each answer past a quota is 429 ``RESOURCE_EXHAUSTED`` naming the
setting that sets it."""

from __future__ import annotations

import time

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch import limits
from convbatch.db.tables import apps, batches, webhooks
from convbatch.errors import ResourceExhausted

QUEUED_READ_EVERY_S = 1.0  # the queued count is read at most this often per project
_queued: dict[str, tuple[float, int]] = {}  # project -> (read at, queued messages)


async def _count(conn: AsyncConnection, table: Table, project_id: str) -> int:
    query = select(func.count()).select_from(table).where(table.c.project_id == project_id)
    return int((await conn.execute(query)).scalar_one())


async def check_room_for_app(conn: AsyncConnection, project_id: str) -> None:
    cap = limits.MAX_APPS_PER_PROJECT
    if cap and await _count(conn, apps, project_id) >= cap:
        raise ResourceExhausted(
            f"The project has {cap} apps, its quota (CONVBATCH_MAX_APPS_PER_PROJECT)", 60
        )


async def check_room_for_webhook(conn: AsyncConnection, project_id: str) -> None:
    cap = limits.MAX_WEBHOOKS_PER_PROJECT
    if cap and await _count(conn, webhooks, project_id) >= cap:
        raise ResourceExhausted(
            f"The project has {cap} webhooks, its quota (CONVBATCH_MAX_WEBHOOKS_PER_PROJECT)", 60
        )


async def check_room_for_messages(conn: AsyncConnection, project_id: str, adding: int) -> None:
    """Refuse a send that would take the project's waiting messages past the quota. The count
    is a little stale (read once a second per project), so a burst may pass it slightly."""
    cap = limits.MAX_QUEUED_MESSAGES_PER_PROJECT
    if not cap:
        return
    now = time.monotonic()
    found = _queued.get(project_id)
    if found is None or now - found[0] >= QUEUED_READ_EVERY_S:
        query = select(func.coalesce(func.sum(batches.c.queued), 0)).where(
            batches.c.project_id == project_id, batches.c.queued > 0
        )
        found = (now, int((await conn.execute(query)).scalar_one()))
        _queued[project_id] = found
    if found[1] + adding > cap:
        raise ResourceExhausted(
            f"The project has {found[1]} messages waiting to be sent; with {adding} more it "
            f"would pass its quota of {cap} (CONVBATCH_MAX_QUEUED_MESSAGES_PER_PROJECT)",
            5,
        )
    _queued[project_id] = (found[0], found[1] + adding)
