"""Turning outbox events into deliveries: one row per endpoint that should receive the event,
created in the same transaction that marks the events as fanned out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.callbacks.ordering import lock_order, normalize
from convbatch.callbacks.policy import PENDING
from convbatch.db.bulk import insert_rows
from convbatch.db.tables import outbox_events, webhook_deliveries
from convbatch.ids import new_ulids
from convbatch.webhooks.repository import project_webhooks_for, webhooks_of_app
from convbatch.webhooks.schemas import Webhook

FANNED_OUT = "FANNED_OUT"
# One fan-out at a time across processes: events become deliveries in event order.
_FANOUT_LOCK = 0x0C0B_F0A7
COLUMNS = (
    "id", "event_id", "project_id", "app_id", "webhook_id", "target", "trigger", "message_id",
    "batch_id", "order_key", "state", "attempts", "next_attempt_at", "retry_since", "redrives",
    "created_at", "updated_at",
)  # fmt: skip
Target = tuple[str, str | None, str]  # (receiving app id, webhook id or None, URL)


class _Targets:
    """Webhook lookups for one round, cached: a round's events mostly share a few apps."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.by_app: dict[tuple[str, str], list[Webhook]] = {}
        self.by_project: dict[tuple[str, str], list[Webhook]] = {}

    async def of(self, event: Any) -> list[Target]:
        if event.callback_url:
            # A per-request callback URL replaces the app's webhooks for this event.
            return [(event.app_id or "", None, event.callback_url)]
        if event.app_id:
            key = (event.project_id, event.app_id)
            if key not in self.by_app:
                self.by_app[key] = await webhooks_of_app(self.conn, *key)
            hooks = [w for w in self.by_app[key] if event.trigger in w.triggers]
        else:
            # Project-wide events (contacts) go to every app's webhooks that want them.
            key = (event.project_id, event.trigger)
            if key not in self.by_project:
                self.by_project[key] = await project_webhooks_for(self.conn, *key)
            hooks = self.by_project[key]
        return [(w.app_id, w.id, w.target) for w in hooks if w.target_type == "HTTP"]


async def take_fanout_lock(conn: AsyncConnection) -> bool:
    """On PostgreSQL, whether this transaction may fan out now (SQLite needs no lock: its
    write transactions already run one at a time)."""
    if conn.dialect.name != "postgresql":
        return True
    got = await conn.execute(text(f"SELECT pg_try_advisory_xact_lock({_FANOUT_LOCK})"))
    return bool(got.scalar())


async def any_pending(conn: AsyncConnection) -> bool:
    """A cheap read, so idle rounds do not open a write transaction."""
    query = select(outbox_events.c.id).where(outbox_events.c.state == PENDING).limit(1)
    return (await conn.execute(query)).first() is not None


async def fan_out(conn: AsyncConnection, limit: int, now_ms: int) -> int:
    """Fan out up to ``limit`` pending events in id order; returns how many were handled."""
    query = (
        select(*outbox_events.c[
            "id", "project_id", "app_id", "trigger", "batch_id", "message_id", "callback_url"
        ])
        .where(outbox_events.c.state == PENDING)
        .order_by(outbox_events.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )  # fmt: skip
    events = (await conn.execute(query)).all()
    if not events:
        return 0
    await lock_order(conn, exclusive=True)
    targets = _Targets(conn)
    rows: list[tuple[Any, ...]] = []
    for event in events:
        rows.extend(_row(event, target, now_ms) for target in await targets.of(event))
    ids = new_ulids(len(rows)) if rows else []
    await insert_rows(
        conn, webhook_deliveries, COLUMNS, [(i, *r) for i, r in zip(ids, rows, strict=True)]
    )
    # New deliveries behind a PENDING one of the same message and endpoint wait their turn.
    await normalize(conn, (r[_KEY] for r in rows if r[_KEY]), now_ms)
    await _mark(conn, [e.id for e in events])
    return len(events)


_KEY = COLUMNS.index("order_key") - 1  # position in a row without its id


def _row(event: Any, target: Target, now_ms: int) -> tuple[Any, ...]:
    app_id, webhook_id, url = target
    order_key = event.message_id or event.batch_id
    return (
        event.id, event.project_id, app_id, webhook_id, url, event.trigger, event.message_id,
        event.batch_id, order_key, PENDING, 0, now_ms, now_ms, 0, now_ms, now_ms,
    )  # fmt: skip


async def _mark(conn: AsyncConnection, event_ids: Sequence[int]) -> None:
    await conn.execute(
        update(outbox_events).where(outbox_events.c.id.in_(event_ids)).values(state=FANNED_OUT)
    )
