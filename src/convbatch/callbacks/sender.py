"""The webhook delivery loop: fan out new outbox events, claim due deliveries ahead of time,
POST each signed payload, record the outcomes.

No transaction is open during an HTTP call. Claims are leases taken in batches and kept alive
while they wait here; outcomes are recorded by a background task in group commits, so the HTTP
side never waits for the database. Each endpoint has its own queue of claimed *chains* (a
delivery and the later ones of the same message, sent in order) and at most ``per_target``
lanes sending from it, so a slow or dead endpoint only ever occupies its own lanes.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections import Counter, deque
from collections.abc import Coroutine
from typing import Any

import aiohttp
import structlog

from convbatch import __version__
from convbatch.callbacks.claims import claim_due, release_claims, renew_leases
from convbatch.callbacks.fanout import any_pending, fan_out, take_fanout_lock
from convbatch.callbacks.outcomes import Claim, Finished, Outcome, record_outcomes
from convbatch.callbacks.policy import DEAD, FAILED, PENDING, WebhookSettings, after_attempt
from convbatch.callbacks.policy import parse_retry_after as _retry_after
from convbatch.callbacks.resolve import load_claims
from convbatch.callbacks.signing import signature_headers
from convbatch.clock import Clock, now_ms
from convbatch.db.engine import Database
from convbatch.ids import new_ulid
from convbatch.net.session import failure_words, guarded_session, read_capped

log = structlog.get_logger(__name__)
BODY_LIMIT = 1024  # bytes of a response body read, to tell its size (the body is not kept)
WAITING_PER_LANE = 16  # chains queued per endpoint lane before that endpoint is skipped
WIDE_SCAN_EVERY_S = 1.0  # at most this often, look past the bounded claim window


class OutboxSender:
    """Delivers outbox events to webhooks. Call ``run_once`` repeatedly (requests it starts
    continue in the background between calls) and ``aclose`` at the end."""

    def __init__(
        self, db: Database, clock: Clock, settings: WebhookSettings | None = None,
        owner: str | None = None,
    ) -> None:  # fmt: skip
        self.db = db
        self.clock = clock
        self.settings = settings or WebhookSettings()
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{new_ulid()}"
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._claimed: dict[str, Claim] = {}  # from claim until recorded or handed back
        self._queues: dict[str, deque[list[Claim]]] = {}  # endpoint -> chains waiting
        self._lanes: Counter[str] = Counter()  # endpoint -> lanes sending
        self._finished: list[Finished] = []
        self._unsent: list[str] = []  # claims to hand back without an attempt
        self._record_lock = asyncio.Lock()
        self._recorder: asyncio.Task[None] | None = None
        self._progress = asyncio.Event()  # set whenever outcomes are recorded
        self._renewed_ms = 0
        self._wide_scan_at = 0.0
        self._closed = False

    @property
    def in_flight(self) -> int:
        """Deliveries claimed here and not yet recorded (waiting or being sent)."""
        return len(self._claimed)

    async def run_once(self) -> int:
        """Record finished attempts, fan out pending events, claim due deliveries and start
        lanes for them; returns how many of those things were done. When there was nothing to
        do but deliveries are claimed, waits for outcomes, so freed room is refilled at once
        rather than at the next call."""
        if self._closed:
            return 0
        self._progress.clear()
        done = await self._round()
        # While lanes are sending, outcomes keep arriving: go round again as each group is
        # recorded (it may have made room to claim more), and hand back to the caller's pacing
        # only when nothing ended for ``settle_s``.
        while done == 0 and self._claimed and not self._closed:
            self._progress.clear()
            try:
                await asyncio.wait_for(self._progress.wait(), self.settings.settle_s)
            except TimeoutError:
                return 0
            done = await self._round()
        return done

    async def _round(self) -> int:
        done = await self._record() + await self.fan_out() + await self._refill()
        await self._renew()
        return done

    async def fan_out(self) -> int:
        async with self.db.read() as conn:
            if not await any_pending(conn):
                return 0
        async with self.db.transaction() as conn:
            if not await take_fanout_lock(conn):
                return 0
            return await fan_out(conn, self.settings.fanout_limit, self._now_ms())

    async def _refill(self) -> int:
        """Claim more when under half of ``prefetch`` is claimed, skipping endpoints whose
        queues are long enough already; then start lanes."""
        want = self.settings.prefetch - len(self._claimed)
        claimed = 0
        if want >= self.settings.prefetch // 2:
            claimed = await self._claim(want)
        self._start_lanes()
        return claimed

    async def _claim(self, want: int) -> int:
        cap = self.settings.per_target * WAITING_PER_LANE
        skip = [target for target, queue in self._queues.items() if len(queue) >= cap]
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
                self._enqueue(claims)
                return len(claims)
        return 0

    def _enqueue(self, claims: list[Claim]) -> None:
        chains: dict[object, list[Claim]] = {}
        for claim in sorted(claims, key=lambda c: (c.event_id, c.id)):
            self._claimed[claim.id] = claim
            key = (claim.order_key, claim.queued_target) if claim.order_key else claim.id
            chains.setdefault(key, []).append(claim)
        for chain in chains.values():
            self._queues.setdefault(chain[0].queued_target, deque()).append(chain)

    def _start_lanes(self) -> None:
        busy = sum(self._lanes.values())
        for target, queue in list(self._queues.items()):
            if not queue and not self._lanes[target]:
                del self._queues[target]
                continue
            while (
                queue
                and busy < self.settings.concurrency
                and (self._lanes[target] < min(self.settings.per_target, len(queue)))
            ):
                self._lanes[target] += 1
                busy += 1
                self._spawn(self._lane(target, queue), f"webhook-lane-{target}")

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _lane(self, target: str, queue: deque[list[Claim]]) -> None:
        try:
            while queue and not self._closed:
                await self._send_chain(queue.popleft())
        finally:
            self._lanes[target] -= 1

    async def _send_chain(self, chain: list[Claim]) -> None:
        """Send a chain in order; stop at the first delivery that must be tried again later
        (the ones behind it stay held). Outcomes are handed to the recorder at the end."""
        results: list[Finished] = []
        sent = 0
        try:
            for claim in chain:
                if self._closed:
                    break
                outcome = None if claim.skip else await self._post(claim)
                state, next_ms = self._verdict(claim, outcome)
                results.append(Finished(claim, outcome, state, next_ms))
                sent += 1
                if state == PENDING:
                    break
        except asyncio.CancelledError:
            self._finished.extend(results)  # recorded by aclose; the rest is released there
            raise
        except Exception:
            # Not recorded: its lease runs out (it is no longer renewed) and it is tried again.
            log.exception("webhook delivery failed", delivery_id=chain[sent].id)
            self._claimed.pop(chain[sent].id, None)
            sent += 1
        self._finished.extend(results)
        self._unsent.extend(claim.id for claim in chain[sent:])
        if self._recorder is None or self._recorder.done():
            self._recorder = self._spawn(self._record_all(), "webhook-recorder")

    def _verdict(self, claim: Claim, outcome: Outcome | None) -> tuple[str, int]:
        if outcome is None:
            return FAILED, self._now_ms()
        return after_attempt(
            self.settings, outcome.status, claim.attempts + 1, self._now_ms(),
            claim.retry_since, outcome.retry_after_s,
        )  # fmt: skip

    async def _record_all(self) -> None:
        while self._finished or self._unsent:
            await self._record()

    async def _record(self) -> int:
        """Record every finished attempt and hand back unsent claims in one transaction.
        Outcomes that arrive while one transaction runs are recorded together by the next."""
        async with self._record_lock:
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
                for item in batch:
                    self._claimed.pop(item.claim.id, None)
                for delivery_id in unsent:
                    self._claimed.pop(delivery_id, None)
                self._progress.set()
        for item in batch:
            if item.state == DEAD:
                log.warning("webhook delivery is dead", delivery_id=item.claim.id,
                            target=item.claim.target)  # fmt: skip
        return len(batch)

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
        self._closed = True
        if self._tasks:
            _done, late = await asyncio.wait(set(self._tasks), timeout=self.settings.drain_s)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await self._record()
        async with self.db.transaction() as conn:
            await release_claims(conn, self.owner)
        self._claimed.clear()
        self._queues.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _post(self, claim: Claim) -> Outcome:
        headers = {"Content-Type": "application/json", "User-Agent": f"convbatch/{__version__}"}
        if claim.secret:
            signed_at = int(self.clock.now().timestamp())
            headers.update(signature_headers(claim.secret, claim.payload, signed_at))
        outcome = Outcome(started_ms=self._now_ms(), latency_ms=0)
        began = time.monotonic()
        try:
            async with self._pool().post(
                claim.target, data=claim.payload, headers=headers, allow_redirects=False
            ) as reply:
                outcome.status = reply.status
                outcome.retry_after_s = _retry_after(reply.headers.get("Retry-After"))
                # The target's reply is the tenant's to read at the target, never here: a
                # target pointed at some internal service would show its answers.
                body, more = await read_capped(reply, BODY_LIMIT)
                outcome.body = f"{len(body)}{'+' if more else ''} bytes, not kept"
        except TimeoutError:
            outcome.error = f"timed out after {self.settings.timeout_s:g} s"
        except (aiohttp.ClientError, ValueError) as exc:
            outcome.error = failure_words(exc)
        outcome.latency_ms = int((time.monotonic() - began) * 1000)
        return outcome

    def _pool(self) -> aiohttp.ClientSession:
        # Made on first use, inside the running event loop that will drive it.
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=self.settings.timeout_s)
            self._session = guarded_session(
                self.settings.concurrency, timeout, limit_per_host=0, ttl_dns_cache=300
            )
        return self._session

    def _now_ms(self) -> int:
        return now_ms(self.clock)
