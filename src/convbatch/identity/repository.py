"""Projects and access keys. Key secrets are stored only as a hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.db.tables import access_keys, projects, server_state


def hash_secret(secret: str) -> str:
    # Secrets are 256 random bits we generate, so a fast hash is enough; a slow KDF only
    # protects guessable (human) passwords.
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewKey:
    key_id: str
    key_secret: str
    project_id: str


async def create_project(conn: AsyncConnection, now_ms: int, display_name: str = "") -> str:
    project_id = str(uuid.uuid4())
    await conn.execute(
        insert(projects).values(id=project_id, display_name=display_name, created_at=now_ms)
    )
    return project_id


async def project_exists(conn: AsyncConnection, project_id: str) -> bool:
    row = await conn.execute(select(projects.c.id).where(projects.c.id == project_id))
    return row.first() is not None


async def create_key(conn: AsyncConnection, project_id: str, now_ms: int) -> NewKey:
    key = NewKey(str(uuid.uuid4()), secrets.token_urlsafe(32), project_id)
    await conn.execute(
        insert(access_keys).values(
            id=key.key_id,
            project_id=project_id,
            secret_hash=hash_secret(key.key_secret),
            created_at=now_ms,
        )
    )
    return key


async def verify_key(conn: AsyncConnection, key_id: str, key_secret: str) -> str | None:
    """The key's project if id and secret match a live key, else None."""
    row = (
        await conn.execute(
            select(access_keys.c.project_id, access_keys.c.secret_hash).where(
                access_keys.c.id == key_id, access_keys.c.revoked_at.is_(None)
            )
        )
    ).first()
    if row is None or not hmac.compare_digest(row.secret_hash, hash_secret(key_secret)):
        return None
    return str(row.project_id)


async def forget_state(conn: AsyncConnection, key: str) -> None:
    """Remove a server-wide value (such as the token signing key kept here by older versions,
    now derived from the secret key instead)."""
    await conn.execute(delete(server_state).where(server_state.c.key == key))


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    created_at: int
    revoked_at: int | None


async def list_keys(conn: AsyncConnection, project_id: str) -> list[KeyInfo]:
    k = access_keys.c
    query = select(k.id, k.created_at, k.revoked_at).where(k.project_id == project_id)
    rows = await conn.execute(query.order_by(k.created_at, k.id))
    return [KeyInfo(r.id, r.created_at, r.revoked_at) for r in rows]


async def revoke_keys(
    conn: AsyncConnection, project_id: str, key_ids: list[str] | None, now_ms: int
) -> list[str]:
    """Revoke the given live keys of the project (every live one with None); their ids."""
    k = access_keys.c
    query = select(k.id).where(k.project_id == project_id, k.revoked_at.is_(None))
    if key_ids is not None:
        query = query.where(k.id.in_(key_ids))
    ids = [row.id for row in await conn.execute(query)]
    if ids:
        await conn.execute(update(access_keys).where(k.id.in_(ids)).values(revoked_at=now_ms))
    return ids


async def revoked_key_ids(conn: AsyncConnection) -> set[str]:
    query = select(access_keys.c.id).where(access_keys.c.revoked_at.is_not(None))
    return {row.id for row in await conn.execute(query)}
