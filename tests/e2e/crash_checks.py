"""Checks shared by the crash and outage tests of channels that cannot deduplicate (the ``http``
driver posting to a counting receiver): nothing lost, re-sends bounded, counts exact."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from sqlalchemy import bindparam, text

from convbatch.db.engine import Database
from tests.e2e.counting_receiver import CountingReceiver
from tests.e2e.ledger import COUNT_NAMES, Ledger, batch_body, recipients

WINDOW = 64  # the http channel's concurrency: its lane's in-flight window per worker
STATE_COUNTER = {"SENT": "sent", "FAILED": "failed", "EXPIRED": "expired", "CANCELLED": "cancelled"}


def bodies(app_id: str, total: int, prefix: str) -> list[dict]:
    return [batch_body(app_id, recipients(f"{prefix}{n:03d}", min(1000, total - start)))
            for n, start in enumerate(range(0, total, 1000))]  # fmt: skip


async def wait_processed(database_url: str, batch_ids: list[str], timeout: float) -> None:
    """Until every batch is PROCESSED with nothing queued (read from the database)."""
    db = Database(database_url)
    sql = text(
        "SELECT COUNT(*) FROM batches WHERE id IN :ids AND (status <> 'PROCESSED' OR queued > 0)"
    ).bindparams(bindparam("ids", expanding=True))
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                async with db.read() as conn:
                    left = (await conn.execute(sql, {"ids": batch_ids})).scalar_one()
                if left == 0:
                    return
            except Exception:
                left = -1  # the database is away for a moment
            assert time.monotonic() < deadline, f"{left} batches not processed in time"
            await asyncio.sleep(0.2)
    finally:
        await db.dispose()


def assert_outcomes(ledger: Ledger, receiver: CountingReceiver, at_most_once: bool) -> None:
    """Every message is final; none is lost; counters equal the message rows.

    at_least_once: every message reached the receiver (maybe more than once) and is SENT.
    at_most_once: nothing reached it twice; each message reached it once and is SENT, or is
    FAILED as UNKNOWN (its outcome was lost in a crash; it may or may not have arrived)."""
    states = Counter(m.state for m in ledger.messages)
    assert set(states) <= {"SENT", "FAILED"}, states
    assert all(m.lease_owner is None and m.send_started_at is None for m in ledger.messages)
    for m in ledger.messages:
        if m.state == "SENT":
            assert receiver.posts[m.id] >= 1, f"{m.id} recorded SENT but never received"
        else:
            assert at_most_once and m.reason_code == "UNKNOWN", (m.id, m.reason_code)
    if at_most_once:
        assert receiver.resends == 0, receiver.resends
    else:
        assert states == {"SENT": len(ledger.messages)}, states
    for batch_id, row in ledger.batches.items():
        assert row.status == "PROCESSED", (batch_id, row.status)
        mine = Counter(STATE_COUNTER[m.state] for m in ledger.messages_of(batch_id))
        expected = {n: mine.get(n, 0) for n in COUNT_NAMES} | {"total": row.total}
        assert ledger.counts(batch_id) == expected, (batch_id, ledger.counts(batch_id))
        assert sum(mine.values()) == row.total
