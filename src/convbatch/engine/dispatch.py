"""The streaming dispatcher: claim fairly, decide, hand each message to its lane, record outcomes
as they come back.

Claims go app by app with a budget shared fairly between projects and apps (``fairness``); a
worker holds at most ``max_outstanding`` claimed-but-unrecorded messages, and one app at most
``app_outstanding``, so a slow or huge tenant fills its own lanes and never the worker. No
transaction is open while a driver is called, and no worker sleeps holding a claim: a message
that must wait goes back to the queue with a later due time. Leases of held messages are renewed
while the worker lives."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import structlog
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch import metrics
from convbatch.channels.registry import DriverRegistry
from convbatch.clock import Clock, now_ms
from convbatch.db.engine import Database
from convbatch.db.tables import apps
from convbatch.engine import queries
from convbatch.engine.context import BatchContext, ContextCache, channel_config
from convbatch.engine.fairness import fair_shares, leftovers
from convbatch.engine.group_writer import GroupWriter
from convbatch.engine.lanes import Lane, LaneHooks, LaneSetup
from convbatch.engine.plan import Decision
from convbatch.engine.prepare import decide_all
from convbatch.engine.ratelimit import LATE_MS, RATE_SLOT, RateLimiter
from convbatch.engine.recorder import Recorder
from convbatch.engine.retry import RetryPolicy
from convbatch.engine.rows import ClaimedMessage

log = structlog.get_logger(__name__)
_UNCONFIGURED = LaneSetup(None, window=500, batch_size=500, deadline_s=1.0)


@dataclass(frozen=True)
class DispatchSettings:
    claim_limit: int = 500  # messages per claim cycle
    lease_ms: int = 30_000
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_window: int = 1000  # operator cap on any lane's in-flight window

    @property
    def max_outstanding(self) -> int:
        return 4 * self.claim_limit

    @property
    def app_outstanding(self) -> int:
        return 2 * self.claim_limit


class Dispatcher(LaneHooks):
    def __init__(
        self, db: Database, clock: Clock, drivers: DriverRegistry, owner: str,
        settings: DispatchSettings | None = None,
    ) -> None:  # fmt: skip
        self.db, self.clock, self.drivers, self.owner = db, clock, drivers, owner
        self.settings = settings or DispatchSettings()
        self.contexts = ContextCache()
        self.limiter = RateLimiter(db)
        self.recorder = Recorder(db, clock, owner, self.settings.retry)
        self.marks: GroupWriter[str, set[str]] = GroupWriter(self._mark_attempts)
        self.lanes: dict[tuple[str, str], Lane] = {}
        self.outstanding: dict[str, int] = defaultdict(int)  # per app: claimed, not recorded
        self.held: set[str] = set()  # ids claimed and not yet recorded: the leases we renew
        self.renewed: set[str] = set()  # the ids the last lease renewal extended
        self.renewed_until = 0
        self._projects: dict[str, str] = {}
        self._turn = 0
        self._room = asyncio.Event()
        self._capped = False  # the last cycle skipped apps that hold all they may
        self._tasks: set[asyncio.Task[None]] = set()

    # -- the loop ---------------------------------------------------------------------------

    async def run(self, stopping: asyncio.Event, wake: Any, poll_s: float) -> None:
        """Claim and dispatch until ``stopping``; then finish what is in flight."""
        writers = [asyncio.create_task(self.recorder.run(), name="recorder"),
                   asyncio.create_task(self.marks.run(), name="attempt-marks")]  # fmt: skip
        try:
            while not stopping.is_set():
                self._room.clear()  # set again by every record from here on
                try:
                    claimed = await self.claim_once()
                except Exception:
                    log.exception("claim failed")
                    claimed = 0
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stopping.wait(), 1)
                if stopping.is_set():
                    break
                full = self.total_outstanding >= self.settings.max_outstanding
                if full or (claimed == 0 and self._capped):
                    # Due work waits for room that a record makes: claim again at once then.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._room.wait(), poll_s)
                elif claimed == 0:
                    await wake.wait(poll_s)
        finally:
            await self.drain()
            self.recorder.close()
            self.marks.close()
            await asyncio.gather(*writers)

    @property
    def total_outstanding(self) -> int:
        return sum(self.outstanding.values())

    async def drain(self) -> None:
        """Stop starting sends; wait for those in flight to be recorded. Messages not started
        stay claimed: the worker hands them back when it stops."""
        for lane in self.lanes.values():
            lane.release_pending()
        while True:
            tasks = {t for lane in self.lanes.values() for t in lane.tasks} | self._tasks
            if not tasks:
                return
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- claiming ---------------------------------------------------------------------------

    async def claim_once(self) -> int:
        """One fair claim cycle; returns how many messages were claimed."""
        budget = min(self.settings.claim_limit,
                     self.settings.max_outstanding - self.total_outstanding)  # fmt: skip
        if budget <= 0:
            return 0
        cycle_done = metrics.dispatch_started()
        now = now_ms(self.clock)
        async with self.db.read() as conn:
            if not await queries.has_due_messages(conn, now):
                return 0
            queued = await queries.queued_apps(conn)
            await self._learn_projects(conn, queued)
        cap = self.settings.app_outstanding
        eligible = [(self._projects[a], a) for a in queued if self.outstanding[a] < cap]
        self._capped = len(eligible) < len(queued)
        shares = fair_shares(eligible, budget, self._turn)
        self._turn += 1
        rows = await self._claim(shares, budget, now)
        if rows:
            await self._dispatch(rows, now)
        cycle_done(len(rows))
        return len(rows)

    async def _claim(self, shares: dict[str, int], budget: int, now: int) -> list[ClaimedMessage]:
        """Each app's share, then a second helping for apps that may have more, in one
        transaction."""
        rows: list[ClaimedMessage] = []
        try:
            async with self.db.transaction() as conn:
                taken = await self._claim_shares(conn, shares, now, rows)
                extra = leftovers(shares, taken, budget - len(rows))
                await self._claim_shares(conn, extra, now, rows)
        except BaseException:
            for row in rows:  # rolled back: none of them is ours
                self.outstanding[row.app_id] -= 1
                self.held.discard(row.id)
            raise
        return rows

    async def _claim_shares(
        self, conn: AsyncConnection, shares: dict[str, int], now: int, into: list[ClaimedMessage]
    ) -> dict[str, int]:
        taken: dict[str, int] = {}
        for app_id, share in shares.items():
            limit = min(share, self.settings.app_outstanding - self.outstanding[app_id])
            if limit > 0:
                got = await queries.claim_due_messages(
                    conn, self.owner, now, self.settings.lease_ms, limit, app_id
                )
                taken[app_id] = len(got)
                self.outstanding[app_id] += len(got)
                self.held.update(row.id for row in got)
                into.extend(got)
        return taken

    async def _learn_projects(self, conn: AsyncConnection, app_ids: Iterable[str]) -> None:
        unknown = [a for a in app_ids if a not in self._projects]
        if not unknown:
            return
        query = select(apps.c.id, apps.c.project_id).where(
            apps.c.id.in_(bindparam("ids", expanding=True))
        )
        for row in await conn.execute(query, {"ids": unknown}):
            self._projects[row.id] = row.project_id
        for app_id in unknown:
            self._projects.setdefault(app_id, "")  # a deleted app: its messages fail alone

    async def _dispatch(self, rows: list[ClaimedMessage], now: int) -> None:
        try:
            async with self.db.read() as conn:
                decisions = await decide_all(conn, self.contexts, rows, now)
        except Exception:
            # Claimed but undecided (the database went away): hand them back via the recorder,
            # which keeps trying until it can write.
            log.exception("deciding claimed messages failed; handing them back")
            self._spawn(self.record([_released(r) for r in rows]))
            return
        lease_until = now + self.settings.lease_ms
        by_lane: dict[tuple[str, str], list[Decision]] = defaultdict(list)
        finished: list[Decision] = []
        for d in decisions:
            d.lease_until = lease_until
            if d.outbound is None:
                finished.append(d)
            else:
                by_lane[(d.row.app_id, d.outbound.channel)].append(d)
        if finished:
            self._spawn(self.record(finished))
        for key, group in by_lane.items():
            lane = self.lanes.get(key)
            if lane is None:
                lane = self.lanes[key] = Lane(*key, hooks=self, on_done=self._room.set)
            lane.offer(group)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- what lanes need (LaneHooks) --------------------------------------------------------

    def setup(self, app_id: str, channel: str) -> LaneSetup:
        app = self.contexts.cached_app(self._projects.get(app_id, ""), app_id)
        config = channel_config(app, channel) if app else None
        if config is None:
            return _UNCONFIGURED
        driver = self.drivers.get(app_id, config)
        return LaneSetup(
            driver, window=min(driver.window, self.settings.max_window),
            batch_size=driver.batch_size, deadline_s=driver.deadline_s,
            guarantee=config.delivery_guarantee, rate_limit=config.rate_limit,
        )  # fmt: skip

    async def record(self, group: list[Decision]) -> None:
        await self.recorder.record(group)
        for d in group:
            self.outstanding[d.row.app_id] -= 1
            self.held.discard(d.row.id)
        self._room.set()

    def now_ms(self) -> int:
        return now_ms(self.clock)

    def lease_ok(self, d: Decision) -> bool:
        """Whether the message is certainly still ours: its claim's lease, or the last renewal
        that extended it, has not run out."""
        now = now_ms(self.clock)
        return d.lease_until > now or (self.renewed_until > now and d.row.id in self.renewed)

    async def mark_attempts(self, group: list[Decision]) -> set[str]:
        return await self.marks.submit([d.row.id for d in group])

    async def _mark_attempts(self, ids: list[str]) -> set[str]:
        """One transaction for the marks of every at-most-once call about to start."""
        async with self.db.transaction() as conn:
            return await queries.mark_attempts(conn, self.owner, ids, now_ms(self.clock))

    async def within_rate(self, group: list[Decision], rate: float) -> list[Decision]:
        """The messages that may go now; the others are deferred to the slot they reserve."""
        now = now_ms(self.clock)
        # A message holding a slot goes now, unless it was claimed so late that sending it
        # would bunch up with newer slots: then it takes a new one like any other.
        late_ms = now - LATE_MS
        holds = {
            d.row.id for d in group if d.row.reason_code == RATE_SLOT and d.row.due_at >= late_ms
        }
        ready = [d for d in group if d.row.id in holds]
        fresh = [d for d in group if d.row.id not in holds]
        if fresh:
            first = fresh[0]
            assert first.outbound is not None
            slots = await self.limiter.reserve(
                first.row.app_id, first.outbound.channel, rate, len(fresh), now
            )
            for d, slot in zip(fresh, slots, strict=True):
                if slot <= now:
                    ready.append(d)
                else:
                    d.deferred_to = slot
        return ready

    # -- leases -----------------------------------------------------------------------------

    async def renew_leases(self) -> None:
        now = now_ms(self.clock)
        until = now + self.settings.lease_ms
        async with self.db.transaction() as conn:
            renewed = await queries.renew_leases(conn, self.owner, list(self.held), until)
        self.renewed, self.renewed_until = renewed, until


def _released(row: ClaimedMessage) -> Decision:
    """A claimed message that could not be decided: back to the queue as it was."""
    d = Decision(row, cast(BatchContext, None), "{}", None, [], channel=row.channel)
    d.released = True
    return d
