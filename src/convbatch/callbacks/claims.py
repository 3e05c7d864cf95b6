"""Claiming due deliveries with a lease, keeping the lease alive, and handing claims back.

A claim takes a due delivery together with the held deliveries queued behind it for the same
message and endpoint (see ordering.py): the sender sends such a *chain* in order on one
connection, so a message's receipts need one claim, not one per receipt.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from convbatch.callbacks.ordering import HELD
from convbatch.callbacks.policy import PENDING
from convbatch.db.bulk import chunked
from convbatch.db.tables import webhook_deliveries

d = webhook_deliveries


def _claimable(now_ms: int) -> ColumnElement[bool]:
    return and_(
        d.c.state == PENDING,
        d.c.next_attempt_at <= now_ms,
        or_(d.c.lease_until.is_(None), d.c.lease_until <= now_ms),
    )


async def claim_due(
    conn: AsyncConnection, *, now_ms: int, owner: str, lease_ms: int, limit: int,
    skip_targets: Collection[str], window: int | None,
) -> list[str]:  # fmt: skip
    """Lease up to ``limit`` due deliveries whose endpoint is not in ``skip_targets`` (those
    this sender has enough work for), each with the held deliveries behind it; returns the ids.

    ``window`` bounds how many of the earliest due rows are looked at, so a large backlog of
    skipped endpoints costs a bounded scan; None looks at every due row."""
    due = select(d.c.id, d.c.target, d.c.order_key).where(_claimable(now_ms))
    due = due.order_by(d.c.next_attempt_at)
    if window is not None:
        inner = due.limit(window).subquery()
        scan = select(inner.c.id, inner.c.target, inner.c.order_key)
        if skip_targets:
            scan = scan.where(inner.c.target.not_in(list(skip_targets)))
    else:
        scan = due.where(d.c.target.not_in(list(skip_targets))) if skip_targets else due
    heads = (await conn.execute(scan.limit(limit))).all()
    if not heads:
        return []
    groups = {(r.order_key, r.target): r.id for r in heads if r.order_key}
    followers: dict[str, str] = {}  # held delivery id -> id of the head it follows
    keys = sorted({key for key, _target in groups})
    for chunk in chunked(keys):
        # Filtered here rather than in SQL: a condition on state would steer SQLite's planner
        # to the due index, a scan of every pending row, instead of the order key's.
        columns = d.c["id", "order_key", "target", "state", "next_attempt_at", "lease_until"]
        group = select(*columns).where(d.c.order_key.in_(chunk))
        for r in await conn.execute(group):
            head = groups.get((r.order_key, r.target))
            if head is not None and r.next_attempt_at == HELD and _is_free(r, now_ms):
                followers[r.id] = head
    # Lock and check again: another sender may have claimed a row since the scan.
    wanted = [r.id for r in heads] + list(followers)
    locked = {
        r.id for r in await _lock(conn, wanted)
        if _is_free(r, now_ms) and (r.id in followers or r.next_attempt_at <= now_ms)
    }  # fmt: skip
    # A held delivery is only ours with its head: alone it would be sent out of turn.
    ids = [i for i in wanted if i in locked and followers.get(i, i) in locked]
    lease = {"lease_until": now_ms + lease_ms, "lease_owner": owner}
    for chunk in chunked(ids):
        await conn.execute(update(d).where(d.c.id.in_(chunk)).values(**lease))
    return ids


def _is_free(row: Any, now_ms: int) -> bool:
    return bool(row.state == PENDING and (row.lease_until is None or row.lease_until <= now_ms))


async def _lock(conn: AsyncConnection, ids: list[str]) -> list[Any]:
    """Lock the rows of ``ids`` that no other transaction holds; returns their current
    state (looked up by primary key only, for the planner's sake: see above)."""
    found: list[Any] = []
    columns = d.c["id", "state", "next_attempt_at", "lease_until"]
    for chunk in chunked(ids):
        lock = select(*columns).where(d.c.id.in_(chunk))
        found.extend(await conn.execute(lock.with_for_update(skip_locked=True)))
    return found


async def renew_leases(
    conn: AsyncConnection, ids: Sequence[str], owner: str, until_ms: int
) -> None:
    """Extend this owner's leases of ``ids`` (claims still waiting or in flight here)."""
    for chunk in chunked(ids):
        await conn.execute(
            update(d)
            .where(d.c.id.in_(chunk), d.c.lease_owner == owner,
                   d.c.state == PENDING)
            .values(lease_until=until_ms)
        )  # fmt: skip


async def release_claims(
    conn: AsyncConnection, owner: str, ids: Sequence[str] | None = None
) -> int:
    """Give back this owner's unfinished claims (all, or only ``ids``) so any sender may take
    them at once. Held deliveries stay held: their head decides when they go."""
    if ids is not None and not ids:
        return 0
    query = update(d).where(d.c.lease_owner == owner, d.c.state == PENDING)
    if ids is None:
        result = await conn.execute(query.values(lease_until=None, lease_owner=None))
        return int(result.rowcount or 0)
    released = 0
    for chunk in chunked(ids):
        mine = query.where(d.c.id.in_(chunk))
        result = await conn.execute(mine.values(lease_until=None, lease_owner=None))
        released += int(result.rowcount or 0)
    return released
