"""The webhook delivery loop: claim due deliveries ahead of time, send them on per-endpoint
lanes, record the outcomes.

No transaction is open during an HTTP call. Claims are leases taken in batches and kept alive
while they wait here (claims.py); each endpoint has its own lanes (lanes.py); each attempt is
one signed POST (posting.py); outcomes are recorded in group commits by a background task
(recorder.py), so the HTTP side never waits for the database. Events become deliveries in the
transaction that produced them (outbox.py): there is nothing to fan out here.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Coroutine, Iterable
from typing import Any

import aiohttp
import structlog

from convbatch import metrics
from convbatch.callbacks.claims import claim_due, release_claims, renew_leases
from convbatch.callbacks.lanes import Lanes
from convbatch.callbacks.outcomes import Claim, Finished, Outcome
from convbatch.callbacks.policy import FAILED, PENDING, WebhookSettings, after_attempt
from convbatch.callbacks.posting import Poster
from convbatch.callbacks.recorder import Recorder
from convbatch.callbacks.resolve import load_claims
from convbatch.clock import Clock, now_ms
from convbatch.db.engine import Database
from convbatch.ids import new_ulid

log = structlog.get_logger(__name__)
WIDE_SCAN_EVERY_S = 1.0  # at most this often, look past the bounded claim window


class OutboxSender:
    """Delivers stored events to webhooks. Call ``run_once`` repeatedly (requests it starts
    continue in the background between calls) and ``aclose`` at the end."""

    def __init__(
        self, db: Database, clock: Clock, settings: WebhookSettings | None = None,
        owner: str | None = None,
    ) -> None:  # fmt: skip
        self.db = db
        self.clock = clock
        self.settings = settings or WebhookSettings()
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{new_ulid()}"
        self.poster = Poster(self.settings, clock)
        self.lanes = Lanes(self.settings, self._send_chain, self._spawn)
        self.recorder = Recorder(db, self.owner, self._now_ms, self._forget)
        self._tasks: set[asyncio.Task[None]] = set()
        self._claimed: dict[str, Claim] = {}  # from claim until recorded or handed back
        self._recording: asyncio.Task[None] | None = None
        self._renewed_ms = 0
        self._wide_scan_at = 0.0
        self._closed = False

    @property
    def in_flight(self) -> int:
        """Deliveries claimed here and not yet recorded (waiting or being sent)."""
        return len(self._claimed)

    @property
    def _session(self) -> aiohttp.ClientSession | None:
        return self.poster.session

    async def run_once(self) -> int:
        """Record finished attempts, claim due deliveries and start lanes for them; returns
        how many of those things were done. When there was nothing to do but deliveries are
        claimed, waits for outcomes, so freed room is refilled at once rather than at the next
        call."""
        if self._closed:
            return 0
        progress = self.recorder.progress
        progress.clear()
        done = await self._round()
        # While lanes are sending, outcomes keep arriving: go round again as each group is
        # recorded (it may have made room to claim more), and hand back to the caller's pacing
        # only when nothing ended for ``settle_s``.
        while done == 0 and self._claimed and not self._closed:
            progress.clear()
            try:
                await asyncio.wait_for(progress.wait(), self.settings.settle_s)
            except TimeoutError:
                return 0
            done = await self._round()
        return done

    async def _round(self) -> int:
        done = await self.recorder.record() + await self._refill()
        await self._renew()
        return done

    async def _refill(self) -> int:
        """Claim more when under half of ``prefetch`` is claimed, skipping endpoints whose
        queues are long enough already; then start lanes."""
        want = self.settings.prefetch - len(self._claimed)
        claimed = 0
        if want >= self.settings.prefetch // 2:
            claimed = await self._claim(want)
        self.lanes.start()
        return claimed

    async def _claim(self, want: int) -> int:
        skip = self.lanes.full()
        windows: list[int | None] = [max(4 * want, 256)]
        if skip and time.monotonic() - self._wide_scan_at >= WIDE_SCAN_EVERY_S:
            windows.append(None)  # the window may hold only skipped endpoints' deliveries
        for window in windows:
            if window is None:
                self._wide_scan_at = time.monotonic()
            async with self.db.transaction() as conn:
                ids = await claim_due(
                    conn, now_ms=self._now_ms(), owner=self.owner,
                    lease_ms=self.settings.lease_ms, limit=want, skip_targets=skip,
                    window=window,
                )  # fmt: skip
                claims = await load_claims(conn, ids)
            if claims:
                self._claimed.update((claim.id, claim) for claim in claims)
                self.lanes.add(claims)
                return len(claims)
        return 0

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _send_chain(self, chain: list[Claim]) -> None:
        """Send a chain in order; stop at the first delivery that must be tried again later
        (the ones behind it keep waiting). Outcomes are handed to the recorder at the end."""
        results: list[Finished] = []
        sent = 0
        try:
            for claim in chain:
                if self._closed:
                    break
                outcome = None if claim.skip else await self.poster.post(claim)
                state, next_ms = self._verdict(claim, outcome)
                metrics.webhook_delivery(state, outcome.latency_ms / 1000 if outcome else None)
                results.append(Finished(claim, outcome, state, next_ms))
                sent += 1
                if state == PENDING:
                    break
        except asyncio.CancelledError:
            self.recorder.add(results, ())  # recorded by aclose; the rest is released there
            raise
        except Exception:
            # Not recorded: its lease runs out (it is no longer renewed) and it is tried again.
            log.exception("webhook delivery failed", delivery_id=chain[sent].id)
            self._claimed.pop(chain[sent].id, None)
            sent += 1
        self.recorder.add(results, (claim.id for claim in chain[sent:]))
        if self._recording is None or self._recording.done():
            self._recording = self._spawn(self.recorder.record_all(), "webhook-recorder")

    def _verdict(self, claim: Claim, outcome: Outcome | None) -> tuple[str, int]:
        if outcome is None:
            return FAILED, self._now_ms()
        return after_attempt(
            self.settings, outcome.status, claim.attempts + 1, self._now_ms(),
            claim.retry_since, outcome.retry_after_s,
        )  # fmt: skip

    def _forget(self, ids: Iterable[str]) -> None:
        for delivery_id in ids:
            self._claimed.pop(delivery_id, None)

    async def _renew(self) -> None:
        """Keep the leases of claims waiting here alive: a chain may wait in its queue longer
        than one HTTP timeout."""
        now = self._now_ms()
        if not self._claimed or now - self._renewed_ms < self.settings.lease_ms // 4:
            return
        self._renewed_ms = now
        async with self.db.transaction() as conn:
            await renew_leases(conn, list(self._claimed), self.owner, now + self.settings.lease_ms)

    async def aclose(self) -> None:
        """Stop taking work, let requests in flight finish for a short while, record what
        ended, hand back the rest of the claims, close the connection pool."""
        self._closed = self.lanes.closed = True
        if self._tasks:
            _done, late = await asyncio.wait(set(self._tasks), timeout=self.settings.drain_s)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await self.recorder.record_all()
        async with self.db.transaction() as conn:
            await release_claims(conn, self.owner)
        self._claimed.clear()
        self.lanes.clear()
        await self.poster.aclose()

    def _now_ms(self) -> int:
        return now_ms(self.clock)
