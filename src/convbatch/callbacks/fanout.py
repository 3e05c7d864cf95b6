"""Storing a transaction's events: each payload once (an ``outbox_events`` row), and one
delivery row per receiving endpoint, all in the producer's transaction.

Order per message and endpoint comes from the event ids (see ordering.py): an event must get a
larger id than every event of the same order key that committed before it. SQLite writers run
one at a time, so that holds by itself. On PostgreSQL, the order keys' own rows (the messages,
else the batches) are locked before ids are drawn: a second producer of events for the same
message waits for the first to commit and only then draws its ids. Producers already hold those
row locks as a rule (they changed the message or the batch), so this costs no extra waiting;
it makes the guarantee hold whatever the producer did, and locks only the rows concerned.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.callbacks.policy import PENDING
from convbatch.callbacks.subscriptions import Target
from convbatch.db.bulk import chunked, insert_rows
from convbatch.db.tables import outbox_events, webhook_deliveries
from convbatch.ids import new_ulids

if TYPE_CHECKING:
    from convbatch.callbacks.outbox import Event

FANNED_OUT = "FANNED_OUT"  # every stored event is: its deliveries are written with it
EVENT_COLUMNS = (
    "id", "project_id", "app_id", "trigger", "batch_id", "message_id", "callback_url", "payload",
    "created_at", "state",
)  # fmt: skip
DELIVERY_COLUMNS = (
    "id", "event_id", "project_id", "app_id", "webhook_id", "target", "trigger", "message_id",
    "batch_id", "order_key", "state", "attempts", "next_attempt_at", "retry_since", "redrives",
    "created_at", "updated_at",
)  # fmt: skip
_LOCK = {
    table: text(f"SELECT id FROM {table} WHERE id IN :ids ORDER BY id FOR UPDATE").bindparams(
        bindparam("ids", expanding=True)
    )
    for table in ("messages", "batches")
}
_NEXT_IDS = text("SELECT nextval(pg_get_serial_sequence('outbox_events', 'id')) "
                 "FROM generate_series(1, :n)")  # fmt: skip
_LAST_ID = text("SELECT COALESCE(MAX(id), 0) FROM outbox_events")


class Stored(NamedTuple):
    event: Event
    payload: str  # encoded JSON
    targets: list[Target]


async def store(conn: AsyncConnection, items: Sequence[Stored], now_ms: int) -> None:
    """Insert the events (in the given order) and their deliveries."""
    if not items:
        return
    await _lock_order_keys(conn, [s.event for s in items])
    ids = await _event_ids(conn, len(items))
    events: list[tuple[Any, ...]] = []
    deliveries: list[tuple[Any, ...]] = []
    for event_id, (e, payload, targets) in zip(ids, items, strict=True):
        events.append((event_id, e.project_id, e.app_id, e.trigger, e.batch_id, e.message_id,
                       e.callback_url, payload, now_ms, FANNED_OUT))  # fmt: skip
        deliveries.extend(_delivery(event_id, e, t, now_ms) for t in targets if t.sends)
    delivery_ids = new_ulids(len(deliveries))
    await insert_rows(conn, outbox_events, EVENT_COLUMNS, events)
    rows = [(i, *row) for i, row in zip(delivery_ids, deliveries, strict=True)]
    await insert_rows(conn, webhook_deliveries, DELIVERY_COLUMNS, rows)


def _delivery(event_id: int, e: Event, target: Target, now_ms: int) -> tuple[Any, ...]:
    return (
        event_id, e.project_id, target.app_id, target.webhook_id, target.url, e.trigger,
        e.message_id, e.batch_id, e.message_id or e.batch_id, PENDING, 0, now_ms, now_ms, 0,
        now_ms, now_ms,
    )  # fmt: skip


async def _lock_order_keys(conn: AsyncConnection, events: Sequence[Event]) -> None:
    if conn.dialect.name != "postgresql":
        return
    message_ids = sorted({e.message_id for e in events if e.message_id})
    batch_ids = sorted({e.batch_id for e in events if e.batch_id and not e.message_id})
    for table, keys in (("messages", message_ids), ("batches", batch_ids)):
        for chunk in chunked(keys):
            await conn.execute(_LOCK[table], {"ids": list(chunk)})


async def _event_ids(conn: AsyncConnection, count: int) -> list[int]:
    """``count`` new event ids, increasing, drawn after the order keys are locked."""
    if conn.dialect.name == "postgresql":
        return sorted(int(i) for (i,) in await conn.execute(_NEXT_IDS, {"n": count}))
    last = int((await conn.execute(_LAST_ID)).scalar_one())
    return list(range(last + 1, last + 1 + count))
