"""Writing events to the outbox, in the caller's transaction, for the webhooks that want them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.db.bulk import insert_rows
from convbatch.db.tables import outbox_events

_encode = msgspec.json.Encoder().encode

COLUMNS = (
    "project_id", "app_id", "trigger", "batch_id", "message_id", "callback_url", "payload",
    "created_at", "state",
)  # fmt: skip


@dataclass(slots=True)
class Event:
    project_id: str
    app_id: str
    trigger: str
    payload: dict[str, Any]
    batch_id: str | None = None
    message_id: str | None = None
    callback_url: str | None = None


async def add_events(conn: AsyncConnection, events: Sequence[Event], now_ms: int) -> None:
    rows = [
        (e.project_id, e.app_id, e.trigger, e.batch_id, e.message_id, e.callback_url,
         _encode(e.payload).decode(), now_ms, "PENDING")
        for e in events
    ]  # fmt: skip
    await insert_rows(conn, outbox_events, COLUMNS, rows)
