"""Which triggers each app's webhooks subscribe to, cached briefly so the engine can skip
writing events nobody listens to."""

from __future__ import annotations

import time

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.db.tables import webhooks

REFRESH_SECONDS = 1.0


class _Doc(msgspec.Struct):
    triggers: list[str] = []


_decode = msgspec.json.Decoder(_Doc).decode


async def app_triggers(conn: AsyncConnection, app_id: str) -> frozenset[str]:
    rows = await conn.execute(select(webhooks.c.doc).where(webhooks.c.app_id == app_id))
    return frozenset(t for row in rows for t in _decode(row.doc).triggers)


async def project_triggers(conn: AsyncConnection, project_id: str) -> dict[str, frozenset[str]]:
    """Per app of the project, the triggers its webhooks want (for project-wide events)."""
    rows = await conn.execute(
        select(webhooks.c.app_id, webhooks.c.doc).where(webhooks.c.project_id == project_id)
    )
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(row.app_id, set()).update(_decode(row.doc).triggers)
    return {app: frozenset(triggers) for app, triggers in found.items()}


class Subscriptions:
    """Triggers per app with a short time-to-live: a new webhook is honoured within a second."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}

    async def triggers(self, conn: AsyncConnection, app_id: str) -> frozenset[str]:
        hit = self._cache.get(app_id)
        now = time.monotonic()
        if hit and now - hit[0] < REFRESH_SECONDS:
            return hit[1]
        found = await app_triggers(conn, app_id)
        self._cache[app_id] = (now, found)
        return found
