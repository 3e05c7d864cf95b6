"""What the end-to-end tests read back from the database: batches, message rows and the sandbox
inbox (the channel's own durable record of what it received), and the checks that every
recipient was sent exactly once with exact counts."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.engine import Row

from convbatch.db.engine import Database
from convbatch.db.tables import batches, messages, sandbox_inbox

COUNT_NAMES = ("queued", "sent", "delivered", "read", "failed", "cancelled", "expired")
FINAL = ("PROCESSED", "CANCELLED")


def recipients(prefix: str, count: int, name: str = "p") -> list[dict[str, Any]]:
    """``count`` SMS recipients whose identities end in 9 (plain delivery in the sandbox)."""
    return [
        {"recipient": {"identified_by": {"channel_identities": [
            {"channel": "SMS", "identity": f"{prefix}{i:06d}9"}]}},
         "parameters": {"name": f"{name}{i}"}}
        for i in range(count)
    ]  # fmt: skip


def batch_body(app_id: str, people: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {"app_id": app_id, "message": {"text_message": {"text": "Hello ${name}"}},
            "recipient_and_params": people, **fields}  # fmt: skip


@dataclass
class Ledger:
    batches: dict[str, Row]
    messages: list[Row]
    inbox: list[Row]

    def counts(self, batch_id: str) -> dict[str, int]:
        row = self.batches[batch_id]
        return {"total": row.total, **{n: getattr(row, n) for n in COUNT_NAMES}}

    def messages_of(self, batch_id: str) -> list[Row]:
        return [m for m in self.messages if m.batch_id == batch_id]

    def inbox_of(self, batch_id: str) -> list[Row]:
        return [r for r in self.inbox if r.batch_id == batch_id]

    @property
    def duplicates_absorbed(self) -> int:
        return sum(r.deliveries for r in self.inbox) - len(self.inbox)

    @property
    def taken_over(self) -> int:
        """Messages claimed more than once (their first claim died with its process)."""
        return sum(1 for m in self.messages if m.attempts > 1)


async def read_ledger(database_url: str, batch_ids: Iterable[str]) -> Ledger:
    ids = list(batch_ids)
    db = Database(database_url)
    try:
        async with db.read() as conn:
            found = (await conn.execute(select(batches).where(batches.c.id.in_(ids)))).all()
            rows = (await conn.execute(
                select(messages).where(messages.c.batch_id.in_(ids)))).all()  # fmt: skip
            inbox = (await conn.execute(
                select(sandbox_inbox).where(sandbox_inbox.c.batch_id.in_(ids)))).all()  # fmt: skip
    finally:
        await db.dispose()
    return Ledger({r.id: r for r in found}, list(rows), list(inbox))


async def wait_settled(database_url: str, batch_ids: list[str], timeout: float) -> None:
    """Until every batch is final with no message left queued or waiting for its receipt
    (read from the database, so it works while the API process is down)."""
    db = Database(database_url)
    deadline = time.monotonic() + timeout
    query = text(
        "SELECT COUNT(*) FROM batches WHERE id IN :ids AND (status NOT IN ('PROCESSED', "
        "'CANCELLED') OR queued > 0 OR sent > 0)"
    ).bindparams(bindparam("ids", expanding=True))
    try:
        while True:
            async with db.read() as conn:
                open_batches = (await conn.execute(query, {"ids": batch_ids})).scalar_one()
            if open_batches == 0:
                return
            assert time.monotonic() < deadline, f"{open_batches} batches not settled in time"
            await asyncio.sleep(0.2)
    finally:
        await db.dispose()


async def inbox_count(database_url: str) -> int:
    db = Database(database_url)
    try:
        async with db.read() as conn:
            found = await conn.execute(text("SELECT COUNT(*) FROM sandbox_inbox"))
            return int(found.scalar_one())
    finally:
        await db.dispose()


def assert_delivered_once(ledger: Ledger, identities: set[str]) -> None:
    """Every identity reached the sandbox in exactly one message; every batch PROCESSED with
    every message DELIVERED, and counters equal to the message rows."""
    per_identity = Counter(r.identity for r in ledger.inbox)
    assert set(per_identity) == identities, "recipients missing from or foreign to the inbox"
    twice = [i for i, n in per_identity.items() if n > 1]
    assert not twice, f"recorded twice: {twice[:5]}"
    assert len(ledger.messages) == len(identities)
    states = Counter((m.state, m.delivery_status) for m in ledger.messages)
    assert states == {("SENT", "DELIVERED"): len(identities)}, states
    assert all(m.lease_owner is None for m in ledger.messages)
    sent_ids = {m.id for m in ledger.messages}
    assert {r.message_id for r in ledger.inbox} == sent_ids
    for batch_id, row in ledger.batches.items():
        assert row.status == "PROCESSED", (batch_id, row.status)
        expected = {n: 0 for n in COUNT_NAMES} | {"total": row.total, "delivered": row.total}
        assert ledger.counts(batch_id) == expected, (batch_id, ledger.counts(batch_id))
    by_batch = Counter(m.batch_id for m in ledger.messages)
    assert by_batch == {b: r.total for b, r in ledger.batches.items()}


async def move_schedule(database_url: str, due_ms: dict[str, int]) -> None:
    """Give scheduled batches a new time, ``{batch_id: epoch ms}``, in one transaction.

    The API rounds ``send_after`` up to a five-minute boundary, too far for a test to wait; so
    batches are accepted with a time minutes ahead and then moved here, on the batch row and its
    message rows, the only places the ticker and the cancel path read the time from."""
    db = Database(database_url)
    try:
        async with db.transaction() as conn:
            for batch_id, when in due_ms.items():
                await conn.execute(
                    update(batches).where(batches.c.id == batch_id, batches.c.status == "SCHEDULED")
                    .values(send_after=when)
                )  # fmt: skip
                await conn.execute(
                    update(messages).where(messages.c.batch_id == batch_id).values(due_at=when)
                )
    finally:
        await db.dispose()
