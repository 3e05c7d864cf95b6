"""Storage of consent lists and their audit trail."""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.db.tables import consent_audit, consents


async def add_to_list(
    conn: AsyncConnection, project_id: str, app_id: str, list_type: str, identity: str, now_ms: int
) -> bool:
    """Put the identity on the list; False when it was already there."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    row = {"project_id": project_id, "app_id": app_id, "list_type": list_type,
           "identity": identity, "created_at": now_ms}  # fmt: skip
    statement = (
        dialect.insert(consents)
        .values(**row)
        .on_conflict_do_nothing(index_elements=["app_id", "list_type", "identity"])
        .returning(consents.c.identity)
    )
    return (await conn.execute(statement)).first() is not None


async def add_audit(
    conn: AsyncConnection,
    project_id: str,
    app_id: str,
    identity: str,
    list_type: str,
    operation: str,
    origin: str,
    now_ms: int,
) -> None:
    await conn.execute(
        insert(consent_audit).values(
            project_id=project_id, app_id=app_id, identity=identity, list_type=list_type,
            operation=operation, origin=origin, created_at=now_ms,
        )
    )  # fmt: skip


async def list_identities(
    conn: AsyncConnection, app_id: str, list_type: str, after: str | None, limit: int
) -> list[str]:
    query = select(consents.c.identity).where(
        consents.c.app_id == app_id, consents.c.list_type == list_type
    )
    if after is not None:
        query = query.where(consents.c.identity > after)
    rows = await conn.execute(query.order_by(consents.c.identity).limit(limit))
    return [row.identity for row in rows]


async def count_identities(conn: AsyncConnection, app_id: str, list_type: str) -> int:
    query = select(func.count()).where(
        consents.c.app_id == app_id, consents.c.list_type == list_type
    )
    return int((await conn.execute(query)).scalar_one())


async def lists_of(conn: AsyncConnection, app_id: str, identity: str) -> set[str]:
    query = select(consents.c.list_type).where(
        consents.c.app_id == app_id, consents.c.identity == identity
    )
    return {row.list_type for row in await conn.execute(query)}


async def audit_rows(conn: AsyncConnection, app_id: str, identity: str) -> list[Row]:
    query = (
        select(consent_audit)
        .where(consent_audit.c.app_id == app_id, consent_audit.c.identity == identity)
        .order_by(consent_audit.c.id)
    )
    return list((await conn.execute(query)).all())


async def delete_consents_of_app(conn: AsyncConnection, project_id: str, app_id: str) -> None:
    for table in (consents, consent_audit):
        await conn.execute(
            delete(table).where(table.c.app_id == app_id, table.c.project_id == project_id)
        )
