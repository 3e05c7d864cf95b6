"""Recording what the lanes did, in group commits: every attempt that ended since the last
commit, and the claims handed back unsent, go in one transaction, made by a background task so
the HTTP side never waits for the database."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

import structlog

from convbatch.callbacks.claims import release_claims
from convbatch.callbacks.outcomes import Finished, record_outcomes
from convbatch.callbacks.policy import DEAD
from convbatch.db.engine import Database

log = structlog.get_logger(__name__)


class Recorder:
    """``forget`` is told the ids of claims that are recorded or handed back (or, when the
    transaction failed, left to their leases)."""

    def __init__(self, db: Database, owner: str, now_ms: Callable[[], int],
                 forget: Callable[[Iterable[str]], None]) -> None:  # fmt: skip
        self.db = db
        self.owner = owner
        self._now_ms = now_ms
        self._forget = forget
        self._finished: list[Finished] = []
        self._unsent: list[str] = []  # claims to hand back without an attempt
        self._lock = asyncio.Lock()
        self.progress = asyncio.Event()  # set whenever a group is recorded

    def add(self, finished: Iterable[Finished], unsent: Iterable[str]) -> None:
        self._finished.extend(finished)
        self._unsent.extend(unsent)

    @property
    def waiting(self) -> bool:
        return bool(self._finished or self._unsent)

    async def record_all(self) -> None:
        while self.waiting:
            await self.record()

    async def record(self) -> int:
        """Record every finished attempt and hand back unsent claims in one transaction.
        Outcomes that arrive while one transaction runs are recorded together by the next."""
        async with self._lock:
            batch, self._finished = self._finished, []
            unsent, self._unsent = self._unsent, []
            if not batch and not unsent:
                return 0
            try:
                async with self.db.transaction() as conn:
                    await record_outcomes(conn, batch, self._now_ms(), self.owner)
                    await release_claims(conn, self.owner, unsent)
            except Exception:
                # Their leases run out and they are tried again; nothing is lost.
                log.exception("recording webhook attempts failed", count=len(batch))
            finally:
                self._forget([item.claim.id for item in batch] + unsent)
                self.progress.set()
        for item in batch:
            if item.state == DEAD:
                log.warning("webhook delivery is dead", delivery_id=item.claim.id,
                            target=item.claim.target)  # fmt: skip
        return len(batch)
