"""Recording outcomes as they arrive: every finished driver call hands its decisions here, and one
task writes whatever has accumulated in one transaction (group commit) with the counters, the
batch transitions and the events. Nothing waits for a round: a fast send is recorded while a slow
one is still in flight.

A failed commit (the database went away) keeps the outcomes and tries again; the lanes that wait
for them hold their windows meanwhile, so nothing more is sent that could not be recorded."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from convbatch.callbacks.outbox import add_events
from convbatch.callbacks.subscriptions import Subscriptions
from convbatch.clock import Clock, now_ms
from convbatch.db.engine import Database
from convbatch.engine import queries
from convbatch.engine.lifecycle import finish_batches
from convbatch.engine.outcome import apply_outcome
from convbatch.engine.plan import Decision
from convbatch.engine.record import RoundRecord
from convbatch.engine.retry import RetryPolicy

log = structlog.get_logger(__name__)
RETRY_PAUSE_S = 0.5  # between attempts to commit while the database is unreachable


class Recorder:
    def __init__(self, db: Database, clock: Clock, owner: str, retry: RetryPolicy) -> None:
        self.db, self.clock, self.owner, self.retry = db, clock, owner, retry
        self.subscriptions = Subscriptions()
        self._waiting: list[tuple[list[Decision], asyncio.Future[None]]] = []
        self._arrived = asyncio.Event()
        self._closing = False

    async def record(self, decisions: list[Decision]) -> None:
        """Hand over decisions with their outcomes; returns once they are committed."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((decisions, done))
        self._arrived.set()
        await done

    async def run(self) -> None:
        """Commit what arrives until ``close()`` and nothing is left."""
        while not (self._closing and not self._waiting):
            await self._arrived.wait()
            self._arrived.clear()
            if not self._waiting:
                continue
            taken, self._waiting = self._waiting, []
            decisions = [d for group, _ in taken for d in group]
            while True:
                try:
                    await self.commit(decisions)
                    break
                except Exception:
                    log.exception("recording outcomes failed; trying again", count=len(decisions))
                    await asyncio.sleep(RETRY_PAUSE_S)
            for _, done in taken:
                if not done.done():
                    done.set_result(None)

    def close(self) -> None:
        self._closing = True
        self._arrived.set()

    async def commit(self, decisions: list[Decision]) -> None:
        record = RoundRecord(self.clock.now(), now_ms(self.clock))
        async with self.db.transaction() as conn:
            ours = await queries.still_ours(conn, self.owner, [d.row.id for d in decisions])
            for app_id in {d.row.app_id for d in decisions}:
                record.triggers[app_id] = await self.subscriptions.triggers(conn, app_id)
            for d in decisions:
                if d.row.id in ours:  # else our lease ran out and another worker owns it now
                    apply_outcome(d, record, self.retry)
            await queries.finish_messages(conn, record.rows)
            await queries.add_to_counters(conn, record.deltas, record.now_ms)
            await finish_batches(conn, list(record.deltas), record)
            await add_events(conn, record.events, record.now_ms)


async def cancel_quietly(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
