"""Recording outcomes as they arrive: every finished driver call hands its decisions here, and one
task writes whatever has accumulated in one transaction (group commit) with the counters, the
batch transitions and the events. Nothing waits for a round: a fast send is recorded while a slow
one is still in flight.

A failed commit (the database went away) keeps the outcomes and tries again; the lanes that wait
for them hold their windows meanwhile, so nothing more is sent that could not be recorded."""

from __future__ import annotations

import asyncio

import structlog

from convbatch import metrics
from convbatch.callbacks.outbox import Outbox
from convbatch.clock import Clock, now_ms
from convbatch.db.engine import Database
from convbatch.engine import queries
from convbatch.engine.group_writer import GroupWriter
from convbatch.engine.lifecycle import finish_batches
from convbatch.engine.outcome import apply_outcome
from convbatch.engine.plan import Decision
from convbatch.engine.record import RoundRecord
from convbatch.engine.retry import RetryPolicy

log = structlog.get_logger(__name__)
RETRY_PAUSE_S = 0.5  # between attempts to commit while the database is unreachable
GIVE_UP_ON_STOP_S = 10.0


class Recorder:
    def __init__(self, db: Database, clock: Clock, owner: str, retry: RetryPolicy) -> None:
        self.db, self.clock, self.owner, self.retry = db, clock, owner, retry
        self.writer: GroupWriter[Decision, None] = GroupWriter(self._commit_until_written)

    async def record(self, decisions: list[Decision]) -> None:
        """Hand over decisions with their outcomes; returns once they are committed."""
        await self.writer.submit(decisions)

    async def run(self) -> None:
        await self.writer.run()

    def close(self) -> None:
        self.writer.close()

    async def _commit_until_written(self, decisions: list[Decision]) -> None:
        """Keep trying while the database is away; when stopping, give up after a while (the
        messages stay claimed: at-least-once channels send them again after the restart, at
        most one window per lane; at-most-once ones fail them as UNKNOWN)."""
        failing_since: float | None = None
        while True:
            try:
                await self.commit(decisions)
                return
            except Exception:
                log.exception("recording outcomes failed; trying again", count=len(decisions))
            loop_time = asyncio.get_running_loop().time()
            failing_since = failing_since or loop_time
            if self.writer.closing and loop_time - failing_since > GIVE_UP_ON_STOP_S:
                log.error("stopping without recording outcomes", count=len(decisions))
                return
            await asyncio.sleep(RETRY_PAUSE_S)

    async def commit(self, decisions: list[Decision]) -> None:
        record = RoundRecord(self.clock.now(), now_ms(self.clock))
        async with self.db.transaction() as conn:
            ours = await queries.still_ours(conn, self.owner, [d.row.id for d in decisions])
            projects = {d.row.project_id for d in decisions}
            record.outbox = await Outbox.open(conn, record.now, projects)
            for d in decisions:
                if d.row.id in ours:  # else our lease ran out and another worker owns it now
                    apply_outcome(d, record, self.retry)
            await queries.finish_messages(conn, record.rows)
            await queries.add_to_counters(conn, record.deltas, record.now_ms)
            await finish_batches(conn, list(record.deltas), record.outbox)
            await record.outbox.flush()
        metrics.record_message_outcomes((row.state, row.channel) for row in record.rows)
