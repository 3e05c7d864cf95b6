"""Waking idle workers when new work is committed: an in-process event for the embedded server,
PostgreSQL LISTEN/NOTIFY across processes, and polling as the fallback for everything else."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

CHANNEL = "convbatch_work"


class Wakeup:
    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._listener: Any = None

    def set(self) -> None:
        self._event.set()

    async def wait(self, timeout: float) -> None:
        """Return when woken or after ``timeout`` seconds, whichever comes first."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)
        self._event.clear()

    async def listen(self, database_url: str) -> None:
        """Subscribe to NOTIFYs from other processes (PostgreSQL only)."""
        url = make_url(database_url).set(drivername="postgresql")
        self._listener = await asyncpg.connect(url.render_as_string(hide_password=False))
        await self._listener.add_listener(CHANNEL, lambda *_args: self.set())

    async def aclose(self) -> None:
        if self._listener is not None:
            await self._listener.close()
            self._listener = None


async def notify(conn: AsyncConnection) -> None:
    """Queue a NOTIFY in the caller's transaction: delivered only if and when it commits."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text(f"SELECT pg_notify('{CHANNEL}', '')"))
