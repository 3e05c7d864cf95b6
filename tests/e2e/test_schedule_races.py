"""Scheduling with real processes: a cancel racing a batch's due time takes all of its messages
or none, and a scheduled batch survives a restart and fires once, never before its time.

Batches are accepted minutes ahead (the API rounds ``send_after`` to five minutes) and then moved
to a near instant in the database (``move_schedule``), so the tests wait seconds, not minutes."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.e2e.ledger import (
    COUNT_NAMES,
    Ledger,
    assert_delivered_once,
    batch_body,
    move_schedule,
    read_ledger,
    recipients,
    wait_settled,
)
from tests.e2e.processes import Client, Cluster, create_tenant

ROUNDS, BATCHES_PER_ROUND, RECIPIENTS_PER_BATCH = 3, 16, 10
# Cancels are fired from 500 ms before to 300 ms after the due time, most of them close to it.
OFFSETS_MS = sorted((-500, 300, *range(-150, 151, 300 // (BATCHES_PER_ROUND - 3))))


def now_ms() -> int:
    return int(time.time() * 1000)


def minutes_ahead(minutes: int = 10) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


async def sleep_until(epoch_ms: int) -> None:
    await asyncio.sleep(max(0.0, (epoch_ms - now_ms()) / 1000))


def cancel_body(i: int, batch_id: str, race: str) -> dict[str, Any]:
    """The three ways to name what to cancel, in turn."""
    if i % 3 == 0:
        return {"batch_id": batch_id}
    if i % 3 == 1:
        return {"batch_ids": [batch_id, "01NOSUCHBATCH0000000000000"]}
    return {"metadata_key": "race", "metadata_value": race}


async def race_round(client: Client, db_url: str, app_id: str, round_no: int) -> list[str]:
    """Schedule a round of batches for one instant and fire a cancel for each around it."""
    races = [f"{round_no}-{i}" for i in range(BATCHES_PER_ROUND)]
    bodies = [
        batch_body(app_id, recipients(f"+2{round_no}{i:02d}", RECIPIENTS_PER_BATCH),
                   send_after=minutes_ahead(), batch_metadata={"race": race})
        for i, race in enumerate(races)
    ]  # fmt: skip
    batch_ids = await client.send_all(bodies)
    due = now_ms() + 1500
    await move_schedule(db_url, dict.fromkeys(batch_ids, due))

    async def cancel_at(i: int, batch_id: str) -> None:
        await sleep_until(due + OFFSETS_MS[i % len(OFFSETS_MS)])
        await client.cancel(cancel_body(i, batch_id, races[i]))

    await asyncio.gather(*(cancel_at(i, b) for i, b in enumerate(batch_ids)))
    return batch_ids


def outcome(ledger: Ledger, batch_id: str) -> str:
    """CANCELLED or PROCESSED, after checking the batch is wholly one or the other."""
    batch, rows = ledger.batches[batch_id], ledger.messages_of(batch_id)
    inbox = ledger.inbox_of(batch_id)
    n = batch.total
    states = Counter(m.state for m in rows)
    zero = dict.fromkeys(COUNT_NAMES, 0)
    if "CANCELLED" in states:
        assert states == {"CANCELLED": n}, (batch_id, states)
        assert batch.status == "CANCELLED"
        assert ledger.counts(batch_id) == {**zero, "total": n, "cancelled": n}
        assert inbox == [], "a cancelled batch reached the channel"
        return "CANCELLED"
    assert states == {"SENT": n}, (batch_id, states)
    assert batch.status == "PROCESSED"
    assert ledger.counts(batch_id) == {**zero, "total": n, "delivered": n}
    assert sorted(r.identity for r in inbox) == sorted({r.identity for r in inbox})
    assert len(inbox) == n and all(r.received_at >= batch.send_after for r in inbox)
    return "PROCESSED"


async def test_cancel_racing_due_time_takes_all_or_nothing(database_url: str, tmp_path: Path):
    tenant = create_tenant(database_url)
    batch_ids: list[str] = []
    with Cluster.running(database_url, tmp_path) as cluster:
        server = cluster.deployment(workers=2)
        async with Client(server.url, tenant) as client:
            app_id = await client.create_app()
            for round_no in range(ROUNDS):
                batch_ids += await race_round(client, database_url, app_id, round_no)
        await wait_settled(database_url, batch_ids, 60)
    ledger = await read_ledger(database_url, batch_ids)
    outcomes = Counter(outcome(ledger, b) for b in batch_ids)
    assert not cluster.errors(), cluster.errors()[:5]
    print(f"\n[c] {len(batch_ids)} racing cancels: {dict(outcomes)}")
    # The earliest cancels come well before the time and the latest well after, so both sides
    # of the race must show up; the ones in between may land on either.
    assert outcomes["CANCELLED"] and outcomes["PROCESSED"], outcomes


async def test_scheduled_batch_survives_restart_and_fires_once_on_time(
    database_url: str, tmp_path: Path
) -> None:
    tenant = create_tenant(database_url)
    with Cluster.running(database_url, tmp_path) as cluster:
        server = cluster.deployment(workers=1)
        async with Client(server.url, tenant) as client:
            app_id = await client.create_app()
            people = {name: recipients(prefix, 20) for name, prefix in
                      (("overdue", "+3100"), ("pending", "+3200"))}  # fmt: skip
            overdue, pending = await client.send_all(
                [batch_body(app_id, p, send_after=minutes_ahead()) for p in people.values()]
            )
        start = now_ms()
        # "overdue" falls due while everything is down; "pending" after the restart.
        times = {overdue: start + 2000, pending: start + 15000}
        await move_schedule(database_url, times)
        # uvicorn re-raises the SIGTERM it handled once it has shut down; -9 would mean the
        # process did not finish within the drain timeout and had to be killed.
        assert set(cluster.stop_all()) <= {0, -signal.SIGTERM}, "no graceful stop"
        await sleep_until(times[overdue] + 1000)
        down = await read_ledger(database_url, times)
        assert {m.state for m in down.messages} == {"SCHEDULED"} and down.inbox == []
        cluster.start_all()
        await wait_settled(database_url, [overdue], 30)
        restarted = await read_ledger(database_url, times)
        if now_ms() < times[pending] - 500:  # the restart may be slow on a loaded machine
            assert restarted.batches[pending].status == "SCHEDULED"
            assert restarted.inbox_of(pending) == []
        await wait_settled(database_url, [overdue, pending], 40)
    ledger = await read_ledger(database_url, times)
    identities = {p["recipient"]["identified_by"]["channel_identities"][0]["identity"]
                  for group in people.values() for p in group}  # fmt: skip
    assert_delivered_once(ledger, identities)
    assert {r.deliveries for r in ledger.inbox} == {1}, "a scheduled message was sent twice"
    assert not cluster.errors(), cluster.errors()[:5]
    for row in ledger.inbox:
        assert row.received_at >= times[row.batch_id], "sent before its time"
