"""Reading deliveries with their attempt history, and re-driving the ones that gave up. Used by
the extension API and the CLI; the delivery loop's own queries are in claims.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.callbacks.ordering import waiting
from convbatch.callbacks.policy import DEAD, FAILED, PENDING
from convbatch.callbacks.schemas import AttemptView, DeliveryView
from convbatch.clock import to_rfc3339
from convbatch.db.bulk import chunked
from convbatch.db.tables import outbox_events, webhook_attempts, webhook_deliveries

d = webhook_deliveries
a = webhook_attempts


def _time(ms: int | None) -> str | None:
    return None if ms is None else to_rfc3339(datetime.fromtimestamp(ms / 1000, UTC))


async def list_deliveries(
    conn: AsyncConnection, project_id: str, app_id: str | None = None,
    state: str | None = None, limit: int = 100, after_id: str | None = None,
) -> tuple[list[DeliveryView], str | None]:  # fmt: skip
    """A page of deliveries in id order, and the id to continue after (None on the last)."""
    query = (
        select(d, outbox_events.c.payload)
        .join(outbox_events, outbox_events.c.id == d.c.event_id)
        .where(d.c.project_id == project_id)
        .order_by(d.c.id)
        .limit(limit + 1)
    )
    if app_id is not None:
        query = query.where(d.c.app_id == app_id)
    if state is not None:
        query = query.where(d.c.state == state)
    if after_id is not None:
        query = query.where(d.c.id > after_id)
    rows = (await conn.execute(query)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    history = await _attempts(conn, [r.id for r in rows])
    held = await waiting(conn, rows)
    views = [_view(r, history.get(r.id, []), r.id in held) for r in rows]
    return views, (rows[-1].id if more else None)


async def _attempts(conn: AsyncConnection, ids: Sequence[str]) -> dict[str, list[AttemptView]]:
    if not ids:
        return {}
    query = select(a).where(a.c.delivery_id.in_(ids)).order_by(a.c.delivery_id, a.c.id)
    found: dict[str, list[AttemptView]] = {}
    for r in await conn.execute(query):
        found.setdefault(r.delivery_id, []).append(
            AttemptView(
                attempt=r.attempt, time=_time(r.started_at) or "",
                target=r.target, latency_ms=r.latency_ms, http_status=r.http_status,
                error=r.error, response_body=r.response_body,
            )
        )  # fmt: skip
    return found


def _view(r: Any, history: list[AttemptView], held: bool) -> DeliveryView:
    return DeliveryView(
        id=r.id, event_id=str(r.event_id), app_id=r.app_id, webhook_id=r.webhook_id,
        target=r.target, trigger=r.trigger, message_id=r.message_id, batch_id=r.batch_id,
        state=r.state, attempts=r.attempts, redrives=r.redrives,
        created_time=_time(r.created_at) or "", updated_time=_time(r.updated_at) or "",
        next_attempt_time=_time(r.next_attempt_at) if r.state == PENDING and not held else None,
        waiting_for_earlier=held,
        finished_time=_time(r.finished_at), last_status=r.last_status, last_error=r.last_error,
        payload=msgspec.Raw(r.payload.encode()), attempt_log=history,
    )  # fmt: skip


async def redrive(
    conn: AsyncConnection, project_id: str, app_id: str | None,
    delivery_ids: Sequence[str] | None, now_ms: int,
) -> list[str]:  # fmt: skip
    """Put deliveries back to PENDING, due now, with a fresh retry window and attempt count:
    the given ids when they are DEAD or FAILED, else every DEAD one. Returns the ids moved."""
    query = select(d.c.id).where(d.c.project_id == project_id).order_by(d.c.id)
    if app_id is not None:
        query = query.where(d.c.app_id == app_id)
    if delivery_ids is None:
        query = query.where(d.c.state == DEAD)
    else:
        query = query.where(d.c.id.in_(list(delivery_ids)), d.c.state.in_((DEAD, FAILED)))
    ids = [row.id for row in await conn.execute(query.with_for_update())]
    for chunk in chunked(ids):
        await conn.execute(
            update(d)
            .where(d.c.id.in_(chunk))
            .values(
                state=PENDING, attempts=0, next_attempt_at=now_ms, retry_since=now_ms,
                lease_until=None, lease_owner=None, finished_at=None, updated_at=now_ms,
                redrives=d.c.redrives + 1,
            )
        )  # fmt: skip
    return ids
