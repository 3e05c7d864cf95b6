"""The webhook delivery loop: fan out new outbox events, claim due deliveries, POST each signed
payload, record the outcome.

No transaction is open during an HTTP call: a claim is a lease taken in one short transaction,
each outcome is recorded in another. Requests run as tasks bounded per endpoint and overall, so
a slow or dead endpoint only ever occupies its own slots.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections import Counter

import aiohttp
import structlog

from convbatch import __version__
from convbatch.callbacks.claims import (
    Claim,
    Finished,
    Outcome,
    claim_due,
    record_outcomes,
    release_claims,
)
from convbatch.callbacks.fanout import any_pending, fan_out, take_fanout_lock
from convbatch.callbacks.policy import DEAD, FAILED, WebhookSettings, after_attempt
from convbatch.callbacks.policy import parse_retry_after as _retry_after
from convbatch.callbacks.resolve import load_claims
from convbatch.callbacks.signing import signature_headers
from convbatch.clock import Clock
from convbatch.db.engine import Database
from convbatch.ids import new_ulid

log = structlog.get_logger(__name__)
BODY_LIMIT = 1024  # bytes of a response body kept with the attempt


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
        # Delivery id -> endpoint it occupies, from claim until its outcome is recorded.
        self._inflight: dict[str, str] = {}
        self._finished: list[Finished] = []
        self._record_lock = asyncio.Lock()
        self._progress = asyncio.Event()  # set whenever attempts are recorded
        self._closed = False

    @property
    def in_flight(self) -> int:
        return len(self._inflight)

    async def run_once(self) -> int:
        """Record finished attempts, fan out pending events and start the due deliveries there
        is room for; returns how many of those things were done. When there was nothing to do
        but requests are in flight, waits up to ``settle_s`` for one to end and fills its slot
        at once, rather than leaving it empty until the next call."""
        if self._closed:
            return 0
        self._progress.clear()
        done = await self._round()
        if done == 0 and self._inflight:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._progress.wait(), self.settings.settle_s)
            done = await self._round()
        return done

    async def _round(self) -> int:
        return await self._record() + await self.fan_out() + await self.start_due()

    async def fan_out(self) -> int:
        async with self.db.read() as conn:
            if not await any_pending(conn):
                return 0
        async with self.db.transaction() as conn:
            if not await take_fanout_lock(conn):
                return 0
            return await fan_out(conn, self.settings.fanout_limit, self._now_ms())

    async def start_due(self) -> int:
        room = self.settings.concurrency - len(self._inflight)
        if room <= 0:
            return 0
        async with self.db.transaction() as conn:
            ids = await claim_due(
                conn, now_ms=self._now_ms(), owner=self.owner, lease_ms=self.settings.lease_ms,
                limit=room, per_target=self.settings.per_target,
                busy=Counter(self._inflight.values()), exclude=self._inflight.keys(),
            )  # fmt: skip
            claims = await load_claims(conn, ids)
        for claim in claims:
            self._inflight[claim.id] = claim.queued_target
            task = asyncio.create_task(self._deliver(claim), name=f"webhook-{claim.id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(claims)

    async def aclose(self) -> None:
        """Stop taking work, let requests in flight finish for a short while, hand back the
        rest of the claims, close the connection pool."""
        self._closed = True
        if self._tasks:
            _done, late = await asyncio.wait(set(self._tasks), timeout=self.settings.drain_s)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await self._record()
        async with self.db.transaction() as conn:
            await release_claims(conn, self.owner)
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _deliver(self, claim: Claim) -> None:
        try:
            outcome = None if claim.skip else await self._post(claim)
            if outcome is None:
                state, next_ms = FAILED, self._now_ms()
            else:
                state, next_ms = after_attempt(
                    self.settings, outcome.status, claim.attempts + 1, self._now_ms(),
                    claim.retry_since, outcome.retry_after_s,
                )  # fmt: skip
            self._finished.append(Finished(claim, outcome, state, next_ms))
        except Exception:
            # Nothing recorded: the lease runs out and the delivery is tried again.
            log.exception("webhook delivery failed", delivery_id=claim.id)
            self._inflight.pop(claim.id, None)
            return
        await self._record()

    async def _record(self) -> int:
        """Record every finished attempt in one transaction. Attempts that end while one
        transaction runs wait for the lock and are then recorded together (group commit)."""
        async with self._record_lock:
            batch, self._finished = self._finished, []
            if not batch:
                return 0
            try:
                async with self.db.transaction() as conn:
                    await record_outcomes(conn, batch, self._now_ms(), self.owner)
            except Exception:
                # Their leases run out and they are tried again; nothing is lost.
                log.exception("recording webhook attempts failed", count=len(batch))
            finally:
                for item in batch:
                    self._inflight.pop(item.claim.id, None)
                self._progress.set()
        for item in batch:
            if item.state == DEAD:
                log.warning("webhook delivery is dead", delivery_id=item.claim.id,
                            target=item.claim.target)  # fmt: skip
        return len(batch)

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
                outcome.body = (await _head(reply, BODY_LIMIT)).decode("utf-8", "replace")
        except TimeoutError:
            outcome.error = f"timed out after {self.settings.timeout_s:g} s"
        except aiohttp.ClientError as exc:
            outcome.error = f"{type(exc).__name__}: {exc}"[:BODY_LIMIT]
        except ValueError as exc:  # an unusable URL
            outcome.error = f"bad target URL: {exc}"[:BODY_LIMIT]
        outcome.latency_ms = int((time.monotonic() - began) * 1000)
        return outcome

    def _pool(self) -> aiohttp.ClientSession:
        # Made on first use, inside the running event loop that will drive it.
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self.settings.concurrency, limit_per_host=0, ttl_dns_cache=300
            )
            timeout = aiohttp.ClientTimeout(total=self.settings.timeout_s)
            self._session = aiohttp.ClientSession(connector=connector, timeout=timeout)
        return self._session

    def _now_ms(self) -> int:
        return int(self.clock.now().timestamp() * 1000)


async def _head(reply: aiohttp.ClientResponse, limit: int) -> bytes:
    """At most ``limit`` bytes of the body; the rest is not read."""
    data = b""
    while len(data) < limit:
        chunk = await reply.content.read(limit - len(data))
        if not chunk:
            break
        data += chunk
    return data
