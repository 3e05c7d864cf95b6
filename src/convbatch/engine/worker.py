"""The engine process loop: the streaming dispatcher plus the named side tasks (scheduler tick,
lease renewal and reaper, sandbox receipts, jobs, webhooks), each supervised so one failure does
not stop the others. Stopping finishes the sends in flight, then hands back any claim still
held."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Awaitable, Callable

import structlog
from sqlalchemy import text

from convbatch.callbacks.policy import WebhookSettings
from convbatch.callbacks.sender import OutboxSender
from convbatch.channels.registry import DriverRegistry
from convbatch.channels.sandbox_receipts import pump_receipts
from convbatch.db.wakeup import notify
from convbatch.engine import lifecycle, queries
from convbatch.engine.dispatch import Dispatcher, DispatchSettings
from convbatch.engine.jobs import DEFAULT_LIMIT as JOBS_CHUNK
from convbatch.engine.jobs import run_jobs_once
from convbatch.engine.retry import RetryPolicy
from convbatch.ids import new_ulid
from convbatch.retention.prune import RETENTION_PERIOD_MS, prune_step
from convbatch.services import Services

log = structlog.get_logger(__name__)
REAP_MARGIN_MS = 2000  # a renewal that failed is tried again after a pause of 1 s
_TICK_LOCK = 0x0C0B_71C4  # advisory lock: one scheduler tick at a time across processes


class Engine:
    def __init__(self, services: Services) -> None:
        self.services = services
        settings = services.settings
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{new_ulid()}"
        self.drivers = DriverRegistry(services.db, services.clock, services.settings)
        self.dispatcher = Dispatcher(
            services.db, services.clock, self.drivers, self.owner,
            DispatchSettings(
                claim_limit=settings.claim_limit, lease_ms=settings.lease_ms,
                retry=RetryPolicy(base_ms=settings.retry_base_ms,
                                  max_attempts=settings.retry_max_attempts),
                max_window=settings.max_driver_concurrency,
            ),
        )  # fmt: skip
        self.webhooks = OutboxSender(
            services.db, services.clock, WebhookSettings.from_settings(settings.extra),
            owner=self.owner,
        )  # fmt: skip
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        """Run until ``stop()``; then drain and release."""
        settings = self.services.settings
        db = self.services.db
        if not db.is_sqlite:
            await self.services.wakeup.listen(settings.database_url)
        dispatch = asyncio.create_task(
            self.dispatcher.run(self._stopping, self.services.wakeup, settings.poll_ms / 1000),
            name="dispatch",
        )
        side = [
            ("lease-renewal", settings.lease_ms // 3, self._renew),
            ("scheduler-tick", settings.tick_ms, self._tick),
            ("lease-reaper", settings.reap_ms, self._reap),
            ("sandbox-receipts", settings.poll_ms, self._receipts),
            ("contacts-and-consents-jobs", settings.poll_ms, self._jobs),
            ("webhooks", settings.poll_ms, self._webhooks),
            ("retention", RETENTION_PERIOD_MS, lambda: prune_step(self.services)),
        ]
        tasks = [asyncio.create_task(self._every(name, period, step), name=name)
                 for name, period, step in side]  # fmt: skip
        try:
            await self._stopping.wait()
        finally:
            self._stopping.set()
            self.services.wakeup.set()
            # Every loop finishes the step it is in: a task cancelled inside a database
            # transaction could leave SQLite's write lock held by a dropped connection.
            await asyncio.gather(dispatch, *tasks, return_exceptions=True)
            async with db.transaction() as conn:
                released = await queries.release_claims(conn, self.owner)
            if released:
                log.info("released claims on shutdown", count=released)
            await self.webhooks.aclose()
            await self.drivers.aclose()
            await self.services.wakeup.aclose()

    def stop(self) -> None:
        self._stopping.set()

    async def _every(self, name: str, period_ms: int, step: Callable[[], Awaitable[bool]]) -> None:
        """Run ``step`` every period (at once again if it says there is more), surviving errors."""
        while not self._stopping.is_set():
            try:
                more = await step()
            except Exception:
                log.exception("engine task failed", task=name)
                more = False
                await self._pause(1)
            if not more:
                await self._pause(period_ms / 1000)

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake at once when the engine is asked to stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _tick(self) -> bool:
        db = self.services.db
        async with db.transaction() as conn:
            if not db.is_sqlite:
                got = await conn.execute(text(f"SELECT pg_try_advisory_xact_lock({_TICK_LOCK})"))
                if not got.scalar():
                    return False
            ready = await lifecycle.tick(conn, self.services.clock.now())
            if ready:
                await notify(conn)
        if ready:
            self.services.wakeup.set()
        return False

    async def _renew(self) -> bool:
        await self.dispatcher.renew_leases()
        return False

    async def _reap(self) -> bool:
        # A lease is taken back only once it has been over for a third of its length: a live
        # worker cut off from the database renews its leases (every third of a lease) and
        # records what it sent before anyone takes them when the database returns.
        grace = self.services.settings.lease_ms // 3 + REAP_MARGIN_MS
        async with self.services.db.transaction() as conn:
            released = await queries.release_expired_leases(conn, self.services.now_ms() - grace)
        if released:
            log.info("took back messages of an expired lease", count=released)
            self.services.wakeup.set()
        return False

    async def _webhooks(self) -> bool:
        return await self.webhooks.run_once() > 0

    async def _jobs(self) -> bool:
        services = self.services
        return await run_jobs_once(services.db, services.clock) >= JOBS_CHUNK

    async def _receipts(self) -> bool:
        services = self.services
        count = await pump_receipts(services.db, services.clock, self.dispatcher.contexts)
        return count >= 1000
