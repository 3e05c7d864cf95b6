"""A crash re-sends at most what was in flight (PostgreSQL, an API and three workers; the SMS
channel on the ``http`` driver posting to a receiver that counts POSTs per message id, so every
second send shows). A random worker is SIGKILLed every second and restarted:

- at_least_once (the default): no recipient lost, re-sends per crash at most the lane's in-flight
  window, counts exact;
- at_most_once: no re-send at all; every message reached the receiver exactly once or FAILED as
  UNKNOWN; counts exact.

Sizes: ``CONVBATCH_E2E_CRASH_RECIPIENTS`` (default 20,000) for at_least_once and half of it for
at_most_once; kills go on until dispatch ends or 60 s pass."""

from __future__ import annotations

import asyncio
import os
import random
import time
from pathlib import Path

import pytest

from tests.e2e.counting_receiver import counting_receiver
from tests.e2e.crash_checks import WINDOW, assert_outcomes, bodies, wait_processed
from tests.e2e.ledger import read_ledger
from tests.e2e.processes import Client, Cluster, Process, create_tenant
from tests.support import DatabaseFactory

RECIPIENTS = int(os.environ.get("CONVBATCH_E2E_CRASH_RECIPIENTS", "20000"))
KILL_FOR_S = int(os.environ.get("CONVBATCH_E2E_KILL_FOR_S", "60"))
# Leases long enough that a live worker slowed down by the machine keeps its claims; a killed
# worker's return after this.
LEASE_MS = 5000


async def kill_while_dispatching(workers: list[Process], done: asyncio.Event) -> int:
    kills = 0
    began = time.monotonic()
    while not done.is_set() and time.monotonic() - began < KILL_FOR_S:
        await asyncio.sleep(1)
        victim = random.choice(workers)
        victim.kill()
        victim.start()
        kills += 1
    return kills


@pytest.mark.parametrize("guarantee", ["at_least_once", "at_most_once"])
async def test_kills_resend_at_most_the_window(
    database_factory: DatabaseFactory, tmp_path: Path, guarantee: str
) -> None:
    db_url = await database_factory.postgresql()
    tenant = create_tenant(db_url)
    total = RECIPIENTS if guarantee == "at_least_once" else RECIPIENTS // 2
    async with counting_receiver(latency_s=0.005) as receiver:
        with Cluster.running(db_url, tmp_path, lease_ms=LEASE_MS, claim_limit=200) as cluster:
            api = cluster.server(engine=False, name="api")
            workers = [cluster.worker(f"worker-{i}") for i in range(3)]
            async with Client(api.url, tenant) as client:
                app_id = await client.create_app(
                    driver="http", delivery_guarantee=guarantee,
                    driver_settings={"url": receiver.url, "concurrency": WINDOW, "timeout": 10},
                )  # fmt: skip
                batch_ids = await client.send_all(bodies(app_id, total, "+5"))
            done = asyncio.Event()
            killer = asyncio.create_task(kill_while_dispatching(workers, done))
            try:
                await wait_processed(db_url, batch_ids, timeout=KILL_FOR_S + 300)
            finally:
                done.set()
                kills = await killer
            errors = cluster.errors()
        ledger = await read_ledger(db_url, batch_ids)
        print(f"\n[crash {guarantee}] {total} recipients, {kills} kills: "
              f"{receiver.resends} re-sends ({receiver.resends / max(kills, 1):.1f} per crash, "
              f"window {WINDOW}); {sum(1 for m in ledger.messages if m.state == 'FAILED')} "
              "failed as unknown")  # fmt: skip
        assert kills > 0
        assert len(ledger.messages) == total
        assert_outcomes(ledger, receiver, at_most_once=guarantee == "at_most_once")
        assert receiver.resends <= kills * WINDOW, (receiver.resends, kills)
        assert not errors, errors[:5]
