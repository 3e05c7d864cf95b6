"""Per-message order of deliveries to one endpoint.

Of the PENDING deliveries sharing an order key (message id, else batch id) and a target, only
the earliest event's may be sent; the others are *held* (their next attempt time is HELD) and
the next one is released when the one before it ends (delivered, failed or dead). So an
endpoint that was down still gets a message's QUEUED_ON_CHANNEL before its DELIVERED, and the
claim query is a plain index scan of due rows.

On PostgreSQL, writers that add PENDING rows (fan-out, re-drive) take an exclusive advisory
lock and writers that end deliveries take it shared: a fan-out never holds a row behind a
delivery that a concurrent transaction is ending (which would then release nothing).
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import groupby

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.callbacks.policy import PENDING
from convbatch.db.bulk import asyncpg_in_transaction
from convbatch.db.tables import webhook_deliveries

d = webhook_deliveries
HELD = 2**62  # next_attempt_at of a held delivery: never due by time alone
_ORDER_LOCK = 0x0C0B_0DE4
# The earliest PENDING delivery of each (order key, target) pair, made due if it is held: one
# statement for all pairs (SQLite runs the per-pair form below, in-process).
_RELEASE_NEXT_PG = """
UPDATE webhook_deliveries AS t SET next_attempt_at = $3
FROM (
    SELECT DISTINCT ON (x.order_key, x.target) x.id, x.next_attempt_at
    FROM webhook_deliveries AS x
    JOIN unnest($1::text[], $2::text[]) AS g(order_key, target)
      ON x.order_key = g.order_key AND x.target = g.target
    WHERE x.state = 'PENDING'
    ORDER BY x.order_key, x.target, x.event_id, x.id
) AS f
WHERE t.id = f.id AND f.next_attempt_at = $4
"""


async def lock_order(conn: AsyncConnection, exclusive: bool) -> None:
    """Take the ordering lock for this transaction (PostgreSQL only; SQLite writers already
    run one at a time)."""
    if conn.dialect.name == "postgresql":
        kind = "" if exclusive else "_shared"
        await conn.execute(text(f"SELECT pg_advisory_xact_lock{kind}({_ORDER_LOCK})"))


async def normalize(conn: AsyncConnection, keys: Iterable[str], now_ms: int) -> None:
    """For every (order key, target) group of these keys: the earliest PENDING delivery is
    sendable (due now if it was held) and every later one not in flight is held."""
    wanted = list(set(keys))
    if not wanted:
        return
    # Pending rows are picked here rather than in SQL: a condition on state would steer
    # SQLite's planner to the due index (every pending row) instead of the order key's.
    query = select(
        d.c.id, d.c.order_key, d.c.target, d.c.state, d.c.event_id, d.c.next_attempt_at,
        d.c.lease_until,
    ).where(d.c.order_key.in_(wanted))  # fmt: skip
    changes: list[dict[str, object]] = []
    found = (await conn.execute(query)).all()
    rows = sorted((r for r in found if r.state == PENDING),
                  key=lambda r: (r.order_key, r.target, r.event_id, r.id))  # fmt: skip
    for _group, members in groupby(rows, key=lambda r: (r.order_key, r.target)):
        first, *rest = members
        if first.next_attempt_at == HELD:
            changes.append({"b_id": first.id, "next_attempt_at": now_ms})
        for row in rest:
            in_flight = row.lease_until is not None and row.lease_until > now_ms
            if row.next_attempt_at != HELD and not in_flight:
                changes.append({"b_id": row.id, "next_attempt_at": HELD})
    if changes:
        await conn.execute(update(d).where(d.c.id == bindparam("b_id")), changes)


async def release_next(
    conn: AsyncConnection, ended: Iterable[tuple[str, str]], now_ms: int
) -> None:
    """After deliveries ended, make the next held delivery of each (order key, target) due."""
    pairs = sorted(set(ended))
    if not pairs:
        return
    if conn.dialect.name == "postgresql":
        driver = await asyncpg_in_transaction(conn)
        keys, targets = [k for k, _ in pairs], [t for _, t in pairs]
        await driver.execute(_RELEASE_NEXT_PG, keys, targets, now_ms, HELD)
        return
    groups = [{"b_key": key, "b_target": target, "b_now": now_ms} for key, target in pairs]
    following = (
        select(d.c.id)
        .where(
            d.c.order_key == bindparam("b_key"),
            d.c.target == bindparam("b_target"),
            d.c.state == PENDING,
        )
        .order_by(d.c.event_id, d.c.id)
        .limit(1)
        .scalar_subquery()
    )
    release = (
        update(d)
        .where(d.c.id == following, d.c.next_attempt_at == HELD)
        .values(next_attempt_at=bindparam("b_now"))
    )
    await conn.execute(release, groups)
