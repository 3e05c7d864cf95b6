"""SQL for batches and their message rows."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import and_, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.db.bulk import insert_rows
from convbatch.db.tables import batch_metadata, batches, cancel_requests, messages

_encode = msgspec.json.Encoder().encode

MESSAGE_COLUMNS = (
    "id", "project_id", "app_id", "batch_id", "idx", "payload", "state", "due_at",
    "created_at", "updated_at",
)  # fmt: skip


@dataclass(slots=True)
class NewMessages:
    """The message rows of one accepted batch: what they all share, then per recipient its
    message id, index and payload (the recipient entry as JSON text)."""

    project_id: str
    app_id: str
    batch_id: str
    state: str
    due_at: int
    created_at: int
    recipients: list[tuple[str, int, str]]

    def rows(self) -> list[tuple[Any, ...]]:
        """Full rows in MESSAGE_COLUMNS order."""
        shared = (self.state, self.due_at, self.created_at, self.created_at)
        head = (self.project_id, self.app_id, self.batch_id)
        return [(mid, *head, idx, payload, *shared) for mid, idx, payload in self.recipients]


STATUS_COLUMNS = (
    batches.c.id,
    batches.c.status,
    batches.c.send_after,
    batches.c.metadata,
    *(batches.c[name] for name in ("total", "queued", "sent", "delivered", "read")),
    *(batches.c[name] for name in ("failed", "cancelled", "expired")),
)


async def insert_batch(conn: AsyncConnection, **values: Any) -> None:
    await conn.execute(insert(batches).values(**values))


async def insert_metadata(
    conn: AsyncConnection, batch_id: str, project_id: str, meta: dict[str, str]
) -> None:
    if meta:
        rows = [{"batch_id": batch_id, "project_id": project_id, "key": k, "value": v}
                for k, v in meta.items()]  # fmt: skip
        await conn.execute(insert(batch_metadata), rows)


# SQLite: one batch's rows differ only in id, index and payload. Sent as one JSON array that
# SQLite unpacks itself, they cost one bound parameter instead of ten per row (binding runs
# under the interpreter lock; unpacking does not).
_SQLITE_INSERT_BATCH = (
    "INSERT INTO messages (id, project_id, app_id, batch_id, idx, payload, state, due_at, "
    "created_at, updated_at) SELECT json_extract(value, '$[0]'), ?, ?, ?, "
    "json_extract(value, '$[1]'), json_extract(value, '$[2]'), ?, ?, ?, ? FROM json_each(?)"
)


def _sqlite_has_json() -> bool:
    """Whether this Python's SQLite has the JSON functions (built in since SQLite 3.38, and
    compiled into most earlier builds): without them, rows are bound one by one."""
    try:
        with closing(sqlite3.connect(":memory:")) as probe:
            probe.execute("SELECT json_extract(value, '$[0]') FROM json_each('[[1]]')")
    except sqlite3.OperationalError:
        return False
    return True


SQLITE_HAS_JSON = _sqlite_has_json()


async def insert_messages(conn: AsyncConnection, new: NewMessages) -> None:
    """Insert the message rows of one batch."""
    if conn.dialect.name != "sqlite" or not new.recipients or not SQLITE_HAS_JSON:
        await insert_rows(conn, messages, MESSAGE_COLUMNS, new.rows())
        return
    shared = (new.project_id, new.app_id, new.batch_id, new.state, new.due_at, new.created_at,
              new.created_at)  # fmt: skip
    await conn.exec_driver_sql(_SQLITE_INSERT_BATCH, (*shared, _encode(new.recipients).decode()))


async def status_event_rows(conn: AsyncConnection, batch_ids: Sequence[str]) -> Sequence[Row]:
    """What a status callback needs of each batch."""
    query = select(
        batches.c.id, batches.c.project_id, batches.c.app_id, batches.c.batch_type,
        batches.c.send_after, batches.c.metadata,
    ).where(batches.c.id.in_(list(batch_ids)))  # fmt: skip
    return (await conn.execute(query)).all()


async def get_status_row(conn: AsyncConnection, project_id: str, batch_id: str) -> Row | None:
    query = select(*STATUS_COLUMNS).where(
        batches.c.id == batch_id, batches.c.project_id == project_id
    )
    return (await conn.execute(query)).first()


async def status_rows_by_metadata(
    conn: AsyncConnection, project_id: str, key: str, value: str, batch_type: str = "MESSAGES"
) -> Sequence[Row]:
    query = (
        select(*STATUS_COLUMNS)
        .join(batch_metadata, batch_metadata.c.batch_id == batches.c.id)
        .where(
            batch_metadata.c.project_id == project_id,
            batch_metadata.c.key == key,
            batch_metadata.c.value == value,
            batches.c.batch_type == batch_type,
        )
        .order_by(batches.c.created_at, batches.c.id)
    )
    return (await conn.execute(query)).all()


async def batch_ids_by_metadata(
    conn: AsyncConnection, project_id: str, key: str, value: str
) -> list[str]:
    query = select(batch_metadata.c.batch_id).where(
        batch_metadata.c.project_id == project_id,
        batch_metadata.c.key == key,
        batch_metadata.c.value == value,
    )
    return [row.batch_id for row in await conn.execute(query)]


async def cancel_scheduled(
    conn: AsyncConnection, project_id: str, batch_ids: Sequence[str], now_ms: int
) -> list[str]:
    """Cancel those of ``batch_ids`` that are still SCHEDULED and not yet due, with all their
    message rows, in the caller's transaction. Returns the ids actually cancelled."""
    if not batch_ids:
        return []
    result = await conn.execute(
        update(batches)
        .where(
            batches.c.project_id == project_id,
            batches.c.id.in_(list(batch_ids)),
            batches.c.status == "SCHEDULED",
            batches.c.send_after > now_ms,
        )
        .values(status="CANCELLED", cancelled=batches.c.queued, queued=0, updated_at=now_ms)
        .returning(batches.c.id)
    )
    cancelled = [row.id for row in result]
    if cancelled:
        await conn.execute(
            update(messages)
            .where(and_(messages.c.batch_id.in_(cancelled), messages.c.state == "SCHEDULED"))
            .values(state="CANCELLED", updated_at=now_ms)
        )
    return cancelled


async def record_cancel_request(
    conn: AsyncConnection,
    request_id: str,
    project_id: str,
    request: Any,
    cancelled: int,
    now_ms: int,
) -> None:
    await conn.execute(
        insert(cancel_requests).values(
            id=request_id,
            project_id=project_id,
            request=msgspec.json.encode(request).decode(),
            cancelled=cancelled,
            created_at=now_ms,
        )
    )
