"""Queries of the delivery loop: claiming due deliveries with a lease, recording outcomes, and
handing claims back. Held deliveries (see ordering.py) are never due, so a claim is a plain scan
of due rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from convbatch.callbacks.ordering import lock_order, release_next
from convbatch.callbacks.policy import PENDING
from convbatch.db.bulk import insert_rows
from convbatch.db.tables import webhook_attempts, webhook_deliveries

d = webhook_deliveries
SCAN_FACTOR = 2  # due rows looked at per delivery wanted


@dataclass(slots=True)
class Claim:
    """A leased delivery, with what is needed to send it."""

    id: str
    target: str  # the URL to call (the webhook's current target)
    queued_target: str  # the target the row was claimed under (its ordering and slot key)
    order_key: str | None
    event_id: int
    attempts: int
    retry_since: int
    payload: bytes
    secret: str | None = None
    skip: str | None = None  # why it must not be sent at all (webhook gone or dismissed)


@dataclass(slots=True)
class Outcome:
    started_ms: int
    latency_ms: int
    status: int | None = None
    error: str | None = None
    body: str | None = None
    retry_after_s: float | None = None


@dataclass(slots=True)
class Finished:
    """A claim whose attempt is over (or was skipped), with the delivery's next state."""

    claim: Claim
    outcome: Outcome | None
    state: str
    next_ms: int


def _claimable(now_ms: int) -> ColumnElement[bool]:
    return and_(
        d.c.state == PENDING,
        d.c.next_attempt_at <= now_ms,
        or_(d.c.lease_until.is_(None), d.c.lease_until <= now_ms),
    )


async def claim_due(
    conn: AsyncConnection, *, now_ms: int, owner: str, lease_ms: int, limit: int,
    per_target: int, busy: Mapping[str, int], exclude: Collection[str],
) -> list[str]:  # fmt: skip
    """Lease up to ``limit`` due deliveries, at most ``per_target`` in flight per endpoint
    counting ``busy`` (in flight here already); returns their ids."""
    scan = (
        select(d.c.id, d.c.target)
        .where(_claimable(now_ms))
        .order_by(d.c.next_attempt_at)
        .limit(limit * SCAN_FACTOR)
    )
    full = [target for target, count in busy.items() if count >= per_target]
    if full:
        # A saturated endpoint's backlog must not fill the scan and starve the others.
        scan = scan.where(d.c.target.not_in(full))
    taken: Counter[str] = Counter(busy)
    chosen: list[str] = []
    for r in await conn.execute(scan):
        if len(chosen) >= limit:
            break
        if r.id not in exclude and taken[r.target] < per_target:
            taken[r.target] += 1
            chosen.append(r.id)
    if not chosen:
        return []
    # Lock and check again: another sender may have claimed a row since the scan.
    lock = select(d.c.id).where(d.c.id.in_(chosen), _claimable(now_ms))
    ids = [r.id for r in await conn.execute(lock.with_for_update(skip_locked=True))]
    if ids:
        lease = {"lease_until": now_ms + lease_ms, "lease_owner": owner}
        await conn.execute(update(d).where(d.c.id.in_(ids)).values(**lease))
    return ids


ATTEMPT_COLUMNS = ("delivery_id", "attempt", "started_at", "target", "http_status", "error",
                   "latency_ms", "response_body")  # fmt: skip
_set_state = update(d).where(
    d.c.id == bindparam("b_id"), d.c.lease_owner == bindparam("b_owner"), d.c.state == PENDING
)


async def record_outcomes(
    conn: AsyncConnection, finished: list[Finished], now_ms: int, owner: str
) -> None:
    """Store the attempts made (none for skipped deliveries) and each delivery's new state.
    A state only changes while this owner still holds the claim."""
    finished = sorted(finished, key=lambda f: f.claim.id)  # rows locked in one order
    attempts = [
        (f.claim.id, f.claim.attempts + 1, f.outcome.started_ms, f.claim.target,
         f.outcome.status, f.outcome.error, f.outcome.latency_ms, f.outcome.body)
        for f in finished if f.outcome is not None
    ]  # fmt: skip
    await lock_order(conn, exclusive=False)
    await insert_rows(conn, webhook_attempts, ATTEMPT_COLUMNS, attempts)
    # Keys named after columns become the SET clause of each row's UPDATE.
    await conn.execute(_set_state, [_changes(f, now_ms, owner) for f in finished])
    ended = [(f.claim.order_key, f.claim.queued_target)
             for f in finished if f.state != PENDING and f.claim.order_key]  # fmt: skip
    await release_next(conn, ended, now_ms)


def _changes(f: Finished, now_ms: int, owner: str) -> dict[str, Any]:
    out = f.outcome
    return {
        "b_id": f.claim.id, "b_owner": owner, "state": f.state, "next_attempt_at": f.next_ms,
        "lease_until": None, "lease_owner": None, "updated_at": now_ms,
        "attempts": f.claim.attempts + (out is not None),
        "last_status": out.status if out else None,
        "last_error": out.error if out else f.claim.skip,
        "finished_at": None if f.state == PENDING else now_ms,
    }  # fmt: skip


async def release_claims(conn: AsyncConnection, owner: str) -> int:
    """Give back this owner's unfinished claims so any sender may take them at once."""
    result = await conn.execute(
        update(d)
        .where(d.c.lease_owner == owner, d.c.state == PENDING)
        .values(lease_until=None, lease_owner=None)
    )
    return int(result.rowcount or 0)
