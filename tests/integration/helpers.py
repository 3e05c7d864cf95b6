"""Helpers for engine tests: run the app with its engine and wait for batches to settle."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import select

from convbatch.db.tables import sandbox_inbox

FAST = {"retry_base_ms": 40, "poll_ms": 20, "tick_ms": 50, "reap_ms": 200}


async def wait_for_status(api, batch_id: str, status: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = (await api.get(f"/messages/{batch_id}")).json()
        if body["status"] == status:
            return dict(body)
        assert time.monotonic() < deadline, f"batch still {body}"
        await asyncio.sleep(0.05)


async def wait_until(predicate, timeout: float = 30, every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(every)


async def inbox(api) -> list:
    async with api.db.read() as conn:
        return (
            await conn.execute(select(sandbox_inbox).order_by(sandbox_inbox.c.received_at))
        ).all()
