"""Which access keys are revoked, as every process sees it within a few seconds.

Tokens are self-contained (no database read per request), so revoking a key must reach tokens
already issued: each process keeps the set of revoked key ids and reads it again when it is
older than ``REFRESH_S``. A request that finds the set stale waits for one small query; the
others go on with the set they have.
"""

from __future__ import annotations

import asyncio
import time

from convbatch.db.engine import Database
from convbatch.identity.repository import revoked_key_ids

REFRESH_S = 2.0  # a revoked key's tokens stop working within this (plus one query)


class Revocations:
    def __init__(self, db: Database, refresh_s: float = REFRESH_S) -> None:
        self.db = db
        self.refresh_s = refresh_s
        self._revoked: set[str] = set()
        self._read_at = float("-inf")
        self._lock = asyncio.Lock()

    async def is_revoked(self, key_id: str) -> bool:
        if time.monotonic() - self._read_at >= self.refresh_s:
            async with self._lock:
                if time.monotonic() - self._read_at >= self.refresh_s:
                    async with self.db.read() as conn:
                        self._revoked = await revoked_key_ids(conn)
                    self._read_at = time.monotonic()
        return key_id in self._revoked
