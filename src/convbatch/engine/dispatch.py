"""One dispatch round: claim due messages, decide, send through the drivers, record the outcome.

The claim and the record are two short transactions; sending happens between them with no
transaction open, so a slow channel never holds the database (and no worker sleeps holding a
claim: a message that must wait goes back to the queue with a later due time)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.engine import Row

from convbatch.callbacks.outbox import Outbox
from convbatch.channels.base import SendResult, failed
from convbatch.channels.registry import DriverRegistry
from convbatch.clock import Clock, now_ms
from convbatch.db.engine import Database
from convbatch.engine import plan, queries
from convbatch.engine.context import ContextCache, channel_config
from convbatch.engine.lifecycle import finish_batches
from convbatch.engine.ratelimit import LATE_MS, RATE_SLOT, RateLimiter
from convbatch.engine.record import RoundRecord
from convbatch.engine.retry import RetryPolicy


@dataclass(frozen=True)
class DispatchSettings:
    claim_limit: int = 500
    lease_ms: int = 30_000
    retry: RetryPolicy = field(default_factory=RetryPolicy)


class Dispatcher:
    def __init__(
        self, db: Database, clock: Clock, drivers: DriverRegistry, owner: str,
        settings: DispatchSettings | None = None,
    ) -> None:  # fmt: skip
        self.db, self.clock, self.drivers, self.owner = db, clock, drivers, owner
        self.settings = settings or DispatchSettings()
        self.contexts = ContextCache()
        self.limiter = RateLimiter(db)

    def _now_ms(self) -> int:
        return now_ms(self.clock)

    async def run_round(self) -> int:
        """Process one chunk of due messages; returns how many were claimed."""
        now_ms = self._now_ms()
        async with self.db.read() as conn:
            if not await queries.has_due_messages(conn, now_ms):
                return 0
        async with self.db.transaction() as conn:
            rows = await queries.claim_due_messages(
                conn, self.owner, now_ms, self.settings.lease_ms, self.settings.claim_limit
            )
        if not rows:
            return 0
        decisions = await self._decide(rows, now_ms)
        record = RoundRecord(self.clock.now(), self._now_ms())
        await self._send(decisions, record)
        await self._record(decisions, record)
        return len(rows)

    async def _decide(self, rows: Sequence[Row], now_ms: int) -> list[plan.Decision]:
        items = [plan.decode_item(row) for row in rows]
        decisions = []
        async with self.db.read() as conn:
            contexts = await self.contexts.batches(conn, {r.batch_id for r in rows})
            by_project: dict[str, set[str]] = defaultdict(set)
            for row, item in zip(rows, items, strict=True):
                if item.recipient.contact_id:
                    by_project[row.project_id].add(item.recipient.contact_id)
            contacts = {}
            for project_id, ids in by_project.items():
                contacts.update(await plan.load_contacts(conn, project_id, ids))
            by_app: dict[str, set[str]] = defaultdict(set)
            for row, item in zip(rows, items, strict=True):
                contact = contacts.get(item.recipient.contact_id or "")
                by_app[row.app_id] |= plan.identities_to_check(item, contact)
            opt_outs = {a: await plan.load_opt_outs(conn, a, ids) for a, ids in by_app.items()}
            for row, item in zip(rows, items, strict=True):
                ctx = contexts[row.batch_id]
                app = await self.contexts.app(conn, row.project_id, row.app_id)
                if app is None:
                    decision = plan.Decision(row, ctx, "{}", None, [])
                    decision.failure = (
                        "FAILED",
                        "UNKNOWN_APP",
                        f"app {row.app_id} no longer exists",
                    )
                else:
                    configured = self.contexts.channels(app)
                    decision = plan.decide(
                        row, item, ctx, configured, contacts, opt_outs[row.app_id], now_ms
                    )
                decisions.append(decision)
        return decisions

    async def _send(self, decisions: list[plan.Decision], record: RoundRecord) -> None:
        groups: dict[tuple[str, str], list[plan.Decision]] = defaultdict(list)
        for d in decisions:
            if d.outbound is not None:
                groups[(d.row.app_id, d.outbound.channel)].append(d)
        sends = [self._send_group(group, record) for group in groups.values()]
        await asyncio.gather(*sends)

    async def _send_group(self, group: list[plan.Decision], record: RoundRecord) -> None:
        first = group[0]
        assert first.outbound is not None
        channel = first.outbound.channel
        app = self.contexts.cached_app(first.row.project_id, first.row.app_id)
        config = channel_config(app, channel) if app else None
        if config is not None and config.rate_limit:
            group = await self._within_rate(group, config.rate_limit, record.now_ms)
        if not group:
            return
        if config is None:
            text = f"channel {channel} is not configured"
            results = [failed(d.row.id, "CHANNEL_CONFIGURATION_MISSING", text) for d in group]
        else:
            driver = self.drivers.get(first.row.app_id, config)
            try:
                results = await driver.send([d.outbound for d in group if d.outbound])
            except Exception as exc:  # a whole-call failure: every message is retried
                results = [SendResult(d.row.id, "retry", "INTERNAL_ERROR", str(exc)[:500])
                           for d in group]  # fmt: skip
        by_id = {r.message_id: r for r in results}
        for d in group:
            d.result = by_id.get(d.row.id) or SendResult(
                d.row.id, "retry", "INTERNAL_ERROR", "driver returned no result"
            )

    async def _within_rate(
        self, group: list[plan.Decision], rate: float, now_ms: int
    ) -> list[plan.Decision]:
        """The messages that may go now; the others are deferred to the slot they reserve."""
        # A message holding a slot goes now, unless it was claimed so late that sending it
        # would bunch up with newer slots: then it takes a new one like any other.
        late_ms = now_ms - LATE_MS
        holds = {
            d.row.id for d in group if d.row.reason_code == RATE_SLOT and d.row.due_at >= late_ms
        }
        ready = [d for d in group if d.row.id in holds]
        fresh = [d for d in group if d.row.id not in holds]
        if fresh:
            first = fresh[0]
            assert first.outbound is not None
            slots = await self.limiter.reserve(
                first.row.app_id, first.outbound.channel, rate, len(fresh), now_ms
            )
            for d, slot in zip(fresh, slots, strict=True):
                if slot <= now_ms:
                    ready.append(d)
                else:
                    d.deferred_to = slot
        return ready

    async def _record(self, decisions: list[plan.Decision], record: RoundRecord) -> None:
        retry = self.settings.retry
        async with self.db.transaction() as conn:
            ours = await queries.still_ours(conn, self.owner, [d.row.id for d in decisions])
            projects = {d.row.project_id for d in decisions}
            record.outbox = await Outbox.open(conn, record.now, projects)
            for d in decisions:
                if d.row.id not in ours:
                    continue  # our lease ran out and another worker owns it now
                apply_outcome(d, record, retry)
            await queries.finish_messages(conn, record.rows)
            await queries.add_to_counters(conn, record.deltas, record.now_ms)
            await finish_batches(conn, list(record.deltas), record.outbox)
            await record.outbox.flush()


def apply_outcome(d: plan.Decision, record: RoundRecord, retry: RetryPolicy) -> None:
    if d.failure is not None:
        record.failed(d, *d.failure)
    elif d.deferred_to is not None:
        record.again(d, d.deferred_to, RATE_SLOT, None, attempts=d.row.attempts - 1)
    elif d.result is None or d.result.outcome == "accepted":
        record.sent(d)
    elif d.result.outcome == "retry":
        code, text = d.result.reason_code or "INTERNAL_ERROR", d.result.description or ""
        if retry.exhausted(d.row.attempts):
            record.failed(d, "FAILED", code, f"gave up after {d.row.attempts} attempts: {text}")
        else:
            record.again(d, record.now_ms + retry.delay_ms(d.row.attempts), code, text)
    else:
        code, text = d.result.reason_code or "CHANNEL_FAILURE", d.result.description or ""
        if d.channel is not None and _has_next(d):
            record.switch_channel(d, code, text)
        else:
            record.failed(d, "FAILED", code, text)


def _has_next(d: plan.Decision) -> bool:
    channels = [c[0] for c in d.candidates]
    return d.channel in channels and channels.index(d.channel) + 1 < len(channels)
