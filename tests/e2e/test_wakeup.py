"""An idle engine is woken by new work, not by its polling timer: with polling set to 20 s, a
new batch must still be sent at once (in-process signal on the embedded server; LISTEN/NOTIFY
across processes on PostgreSQL)."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import func, select

from convbatch.db.engine import Database
from convbatch.db.tables import sandbox_inbox
from tests.api.builders import batch
from tests.e2e.processes import Client, Cluster, create_tenant

POLL_MS = 20_000


async def received(db_url: str) -> int:
    db = Database(db_url)
    try:
        async with db.read() as conn:
            return int(
                (await conn.execute(select(func.count()).select_from(sandbox_inbox))).scalar_one()
            )
    finally:
        await db.dispose()


async def test_idle_engine_is_woken_by_a_new_batch(database_url, tmp_path):
    tenant = create_tenant(database_url)
    with Cluster.running(database_url, tmp_path, poll_ms=POLL_MS) as cluster:
        server = cluster.deployment(workers=1)
        async with Client(server.url, tenant) as client:
            app_id = await client.create_app()
            await asyncio.sleep(2)  # let every engine loop go idle on its long timer
            started = time.monotonic()
            await client.send(batch(app_id, 5))
            while await received(database_url) < 5:
                # Far below the polling period: only a wake-up can explain an early send.
                assert time.monotonic() - started < POLL_MS / 4000, "engine was not woken"
                await asyncio.sleep(0.05)
