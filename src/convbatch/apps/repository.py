"""Storage of apps: the App document is stored whole, keyed by id and project."""

from __future__ import annotations

import msgspec
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.apps.schemas import App
from convbatch.db.tables import apps

_decoder = msgspec.json.Decoder(App)


async def insert_app(conn: AsyncConnection, project_id: str, app: App, now_ms: int) -> None:
    await conn.execute(
        insert(apps).values(
            id=app.id,
            project_id=project_id,
            doc=msgspec.json.encode(app).decode(),
            created_at=now_ms,
        )
    )


async def get_app(conn: AsyncConnection, project_id: str, app_id: str) -> App | None:
    """The app if it exists in this project; another project's app is as good as missing."""
    row = (
        await conn.execute(
            select(apps.c.doc).where(apps.c.id == app_id, apps.c.project_id == project_id)
        )
    ).first()
    return None if row is None else _decoder.decode(row.doc)
