"""First-start set-up: a project, an access key and a sandbox app, so the server is usable at
once. Also the building blocks of the admin CLI commands."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.apps.repository import insert_app
from convbatch.apps.schemas import App, ChannelCredential
from convbatch.db.engine import Database
from convbatch.db.tables import projects
from convbatch.identity.repository import create_key, create_project
from convbatch.ids import new_ulid

SANDBOX_CHANNELS = ("SMS", "WHATSAPP", "RCS")


@dataclass(frozen=True)
class Tenant:
    project_id: str
    key_id: str
    key_secret: str
    app_id: str


def sandbox_app(display_name: str, channels: tuple[str, ...] = SANDBOX_CHANNELS) -> App:
    credentials = [
        ChannelCredential(
            channel=channel,  # type: ignore[arg-type]
            static_bearer={"claimed_identity": "sandbox", "token": "sandbox"},
            driver="sandbox",
        )
        for channel in channels
    ]
    return App(id=new_ulid(), display_name=display_name, channel_credentials=credentials)


async def create_tenant(conn: AsyncConnection, now_ms: int, name: str = "Sandbox") -> Tenant:
    project_id = await create_project(conn, now_ms, name)
    key = await create_key(conn, project_id, now_ms)
    app = sandbox_app(f"{name} app")
    await insert_app(conn, project_id, app, now_ms)
    return Tenant(project_id, key.key_id, key.key_secret, app.id)


async def bootstrap_if_empty(db: Database, now_ms: int) -> Tenant | None:
    """Create the first tenant when the database has no project yet; None otherwise."""
    async with db.transaction() as conn:
        count = (await conn.execute(select(func.count()).select_from(projects))).scalar_one()
        if count:
            return None
        return await create_tenant(conn, now_ms)
