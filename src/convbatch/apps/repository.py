"""Storage of apps: the App document is stored whole, keyed by id and project."""

from __future__ import annotations

import msgspec
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.apps.schemas import App
from convbatch.db.tables import apps
from convbatch.secrets.fields import app_leaves
from convbatch.secrets.sealing import sealed_json

_decoder = msgspec.json.Decoder(App)


def _encode(app: App) -> str:
    return sealed_json(app, app_leaves)


async def insert_app(conn: AsyncConnection, project_id: str, app: App, now_ms: int) -> None:
    await conn.execute(
        insert(apps).values(id=app.id, project_id=project_id, doc=_encode(app), created_at=now_ms)
    )


async def get_app(conn: AsyncConnection, project_id: str, app_id: str) -> App | None:
    """The app if it exists in this project; another project's app is as good as missing."""
    row = (
        await conn.execute(
            select(apps.c.doc).where(apps.c.id == app_id, apps.c.project_id == project_id)
        )
    ).first()
    return None if row is None else _decoder.decode(row.doc)


async def lock_app(conn: AsyncConnection, project_id: str, app_id: str) -> App | None:
    """Like get_app, but holds the row until the transaction ends, so checks that count the
    app's children (such as its webhooks) are not raced by a concurrent writer on PostgreSQL.
    SQLite needs no lock: its write transactions already run one at a time."""
    query = select(apps.c.doc).where(apps.c.id == app_id, apps.c.project_id == project_id)
    row = (await conn.execute(query.with_for_update())).first()
    return None if row is None else _decoder.decode(row.doc)


async def list_apps(conn: AsyncConnection, project_id: str) -> list[App]:
    query = select(apps.c.doc).where(apps.c.project_id == project_id).order_by(apps.c.id)
    return [_decoder.decode(row.doc) for row in await conn.execute(query)]


async def replace_app(conn: AsyncConnection, project_id: str, app: App) -> None:
    await conn.execute(
        update(apps)
        .where(apps.c.id == app.id, apps.c.project_id == project_id)
        .values(doc=_encode(app))
    )


async def delete_app_row(conn: AsyncConnection, project_id: str, app_id: str) -> bool:
    result = await conn.execute(
        delete(apps).where(apps.c.id == app_id, apps.c.project_id == project_id)
    )
    return bool(result.rowcount)
