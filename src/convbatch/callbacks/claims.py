"""Claiming due deliveries with a lease, keeping the lease alive, and handing claims back.

A claim takes a sendable delivery (none earlier of its message and endpoint still pending, see
ordering.py) together with the deliveries queued right behind it: the sender sends such a
*chain* in order on one connection, so a message's receipts need one claim, not one per
receipt.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from convbatch.callbacks.ordering import (
    followers,
    has_no_earlier_pending,
    is_free,
    pending_of_groups,
)
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
    """Lease up to ``limit`` sendable deliveries whose endpoint is not in ``skip_targets``
    (those this sender has enough work for), each with its chain; returns the ids.

    ``window`` bounds how many of the earliest due rows are looked at, so a large backlog of
    skipped endpoints costs a bounded scan; None looks at every due row."""
    heads = (await conn.execute(_heads(now_ms, limit, skip_targets, window))).all()
    if not heads:
        return []
    behind = followers(heads, await pending_of_groups(conn, (h.order_key for h in heads if
                                                               h.order_key)), now_ms)  # fmt: skip
    # Lock and check again: another sender may have claimed a row since the scan.
    wanted = [r.id for r in heads] + list(behind)
    locked = {
        r.id for r in await _lock(conn, wanted)
        if is_free(r, now_ms) and r.next_attempt_at <= now_ms
    }  # fmt: skip
    # A follower is only ours with its head: alone it would be sent out of turn.
    ids = [i for i in wanted if i in locked and behind.get(i, i) in locked]
    lease = {"lease_until": now_ms + lease_ms, "lease_owner": owner}
    for chunk in chunked(ids):
        await conn.execute(update(d).where(d.c.id.in_(chunk)).values(**lease))
    return ids


def _heads(now_ms: int, limit: int, skip_targets: Collection[str], window: int | None) -> Any:
    """The earliest due, free deliveries with nothing earlier pending for their endpoint."""
    columns = d.c["id", "target", "order_key", "event_id"]
    if window is None:
        scan = select(*columns).where(_claimable(now_ms)).order_by(d.c.next_attempt_at)
    else:
        due = select(d.c.id, d.c.next_attempt_at).where(_claimable(now_ms))
        inner = due.order_by(d.c.next_attempt_at).limit(window).subquery()
        scan = select(*columns).join(inner, inner.c.id == d.c.id)
        scan = scan.order_by(inner.c.next_attempt_at)
    scan = scan.where(has_no_earlier_pending())
    if skip_targets:
        scan = scan.where(d.c.target.not_in(list(skip_targets)))
    return scan.limit(limit)


async def _lock(conn: AsyncConnection, ids: list[str]) -> list[Any]:
    """Lock the rows of ``ids`` that no other transaction holds; returns their current
    state (looked up by primary key only, for the planner's sake)."""
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
    them at once."""
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
