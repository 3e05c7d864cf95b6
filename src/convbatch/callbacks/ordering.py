"""Per-message order of deliveries to one endpoint.

Deliveries sharing an order key (message id, else batch id) and a target go in event order
(``event_id``, then id). A PENDING delivery *waits* while an earlier one of its group is still
PENDING; it becomes sendable, with nothing to release, as soon as that one ends (delivered,
failed or dead). Event ids follow commit order per order key (see fanout.py), so a delivery
whose predecessor has not committed yet cannot exist: no lock is needed to keep the order.

A claim takes a sendable delivery together with the waiting ones behind it (its *chain*), which
the sender posts in order on one lane.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import groupby
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from convbatch.callbacks.policy import PENDING
from convbatch.db.bulk import chunked
from convbatch.db.tables import webhook_deliveries

d = webhook_deliveries
_earlier = webhook_deliveries.alias("earlier")


def has_no_earlier_pending() -> ColumnElement[bool]:
    """SQL: no PENDING delivery of the same order key and target precedes this row."""
    e = _earlier
    before = or_(e.c.event_id < d.c.event_id, and_(e.c.event_id == d.c.event_id, e.c.id < d.c.id))
    same = and_(e.c.order_key == d.c.order_key, e.c.target == d.c.target)
    return ~exists().where(same, before, e.c.state == PENDING)


async def pending_of_groups(conn: AsyncConnection, keys: Iterable[str]) -> list[Any]:
    """The PENDING deliveries of these order keys, in group and event order."""
    wanted = sorted(set(keys))
    columns = d.c["id", "order_key", "target", "state", "event_id", "next_attempt_at",
                   "lease_until"]  # fmt: skip
    found: list[Any] = []
    for chunk in chunked(wanted):
        # Filtered here rather than in SQL: a condition on state would steer SQLite's planner
        # to the due index, a scan of every pending row, instead of the order key's.
        query = select(*columns).where(d.c.order_key.in_(chunk))
        found.extend(r for r in await conn.execute(query) if r.state == PENDING)
    return sorted(found, key=lambda r: (r.order_key, r.target, r.event_id, r.id))


def followers(heads: Sequence[Any], pending: Sequence[Any], now_ms: int) -> dict[str, str]:
    """For each head (a sendable delivery with an order key), the free deliveries queued right
    behind it in its group: {follower id: head id}. The chain stops at the first delivery that
    is leased elsewhere or not due."""
    by_group = {(h.order_key, h.target): h.id for h in heads if h.order_key}
    found: dict[str, str] = {}
    for group, members in groupby(pending, key=lambda r: (r.order_key, r.target)):
        head = by_group.get(group)
        if head is None:
            continue
        first, *rest = list(members)
        if first.id != head:
            continue  # something earlier came back (a re-drive): the next claim sorts it out
        for row in rest:
            if not is_free(row, now_ms) or row.next_attempt_at > now_ms:
                break
            found[row.id] = head
    return found


def is_free(row: Any, now_ms: int) -> bool:
    return bool(row.state == PENDING and (row.lease_until is None or row.lease_until <= now_ms))


async def waiting(conn: AsyncConnection, rows: Sequence[Any]) -> set[str]:
    """Of these deliveries, the PENDING ones held back by an earlier PENDING one."""
    keys = [r.order_key for r in rows if r.state == PENDING and r.order_key]
    held: set[str] = set()
    for _group, members in groupby(await pending_of_groups(conn, keys),
                                   key=lambda r: (r.order_key, r.target)):  # fmt: skip
        held.update(r.id for r in list(members)[1:])
    return held
