"""What the sender holds and learns: a leased delivery, the outcome of one attempt, and the
delivery's next state; and recording those outcomes in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.callbacks.policy import PENDING
from convbatch.db.bulk import insert_rows, update_rows
from convbatch.db.tables import webhook_attempts


@dataclass(slots=True)
class Claim:
    """A leased delivery, with what is needed to send it."""

    id: str
    target: str  # the URL to call (the webhook's current target)
    queued_target: str  # the target the row was claimed under (its ordering and lane key)
    order_key: str | None
    event_id: int
    attempts: int
    retry_since: int
    payload: bytes
    secret: str | None = None
    skip: str | None = None  # why it must not be sent at all (webhook gone or dismissed)
    project_id: str = ""  # whose delivery: a project's lanes together have a share of the total


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


ATTEMPT_COLUMNS = ("delivery_id", "attempt", "started_at", "target", "http_status", "error",
                   "latency_ms", "response_body")  # fmt: skip
STATE_COLUMNS = (
    ("state", "text"), ("next_attempt_at", "bigint"), ("lease_until", "bigint"),
    ("lease_owner", "text"), ("updated_at", "bigint"), ("attempts", "integer"),
    ("last_status", "integer"), ("last_error", "text"), ("finished_at", "bigint"),
)  # fmt: skip


async def record_outcomes(
    conn: AsyncConnection, finished: list[Finished], now_ms: int, owner: str
) -> None:
    """Store the attempts made (none for skipped deliveries) and each delivery's new state.
    A state only changes while this owner still holds the claim. (What waited behind a
    delivery that ended needs no release: see ordering.py.)"""
    if not finished:
        return
    finished = sorted(finished, key=lambda f: f.claim.id)  # rows locked in one order
    attempts = [
        (f.claim.id, f.claim.attempts + 1, f.outcome.started_ms, f.claim.target,
         f.outcome.status, f.outcome.error, f.outcome.latency_ms, f.outcome.body)
        for f in finished if f.outcome is not None
    ]  # fmt: skip
    await insert_rows(conn, webhook_attempts, ATTEMPT_COLUMNS, attempts)
    await update_rows(
        conn, "webhook_deliveries", "id", STATE_COLUMNS, [_changes(f, now_ms) for f in finished],
        guard=(("lease_owner", owner), ("state", PENDING)),
    )  # fmt: skip


def _changes(f: Finished, now_ms: int) -> tuple[Any, ...]:
    out = f.outcome
    return (
        f.claim.id, f.state, f.next_ms, None, None, now_ms,
        f.claim.attempts + (out is not None),
        out.status if out else None,
        out.error if out else f.claim.skip,
        None if f.state == PENDING else now_ms,
    )  # fmt: skip
