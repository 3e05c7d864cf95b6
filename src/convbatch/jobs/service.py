"""Storing contacts and consents batches as engine jobs: one batch row plus one item per entry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.batches.repository import insert_batch
from convbatch.db.bulk import insert_rows
from convbatch.db.tables import batch_items
from convbatch.ids import new_ulid

_encode = msgspec.json.Encoder().encode
ITEM_COLUMNS = ("batch_id", "idx", "payload", "state")


async def store_job(
    conn: AsyncConnection,
    project_id: str,
    batch_type: str,
    operation: str,
    items: Sequence[Any],
    now_ms: int,
    app_id: str | None = None,
) -> str:
    batch_id = new_ulid(now_ms)
    await insert_batch(
        conn,
        id=batch_id,
        project_id=project_id,
        app_id=app_id,
        batch_type=batch_type,
        operation=operation,
        status="READY",
        total=len(items),
        queued=len(items),
        created_at=now_ms,
        updated_at=now_ms,
    )
    rows = [(batch_id, idx, _encode(item).decode(), "QUEUED") for idx, item in enumerate(items)]
    await insert_rows(conn, batch_items, ITEM_COLUMNS, rows)
    return batch_id
