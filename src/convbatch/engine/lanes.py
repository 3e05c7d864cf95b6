"""Lanes: one per (app, channel), each with its own window of messages in flight.

A lane takes decided messages, and while fewer than ``window`` of its messages are in flight it
starts driver calls of up to ``batch_size`` messages. A call's outcomes go to the recorder as soon
as it returns, and only once they are committed do they leave the window: what a worker has sent
but not recorded is at most one window per lane, and that is all a crash can send twice. A slow
lane fills its own window and nobody else's.

Every call has a deadline. Passing it is an unknown outcome: retried later on an at-least-once
channel (the message id is the idempotency key), failed as ``UNKNOWN`` on an at-most-once channel,
which also records the attempt before the call so that a crash cannot lead to a second send."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from convbatch import metrics
from convbatch.channels.base import Driver, SendResult, failed
from convbatch.engine.plan import Decision

log = structlog.get_logger(__name__)
AT_MOST_ONCE = "at_most_once"


@dataclass(frozen=True)
class LaneSetup:
    """How a lane sends right now (read before every call: an app's settings may change)."""

    driver: Driver | None  # None: the channel is not configured on the app
    window: int
    batch_size: int
    deadline_s: float
    guarantee: str = "at_least_once"
    rate_limit: float | None = None


class LaneHooks:
    """What lanes need from the dispatcher: their setup, the rate limiter, at-most-once attempt
    marks, lease checks and the recorder."""

    def setup(self, app_id: str, channel: str) -> LaneSetup:
        raise NotImplementedError

    async def within_rate(self, group: list[Decision], rate: float) -> list[Decision]:
        raise NotImplementedError

    async def mark_attempts(self, group: list[Decision]) -> set[str]:
        raise NotImplementedError

    def lease_ok(self, d: Decision) -> bool:
        raise NotImplementedError

    def now_ms(self) -> int:
        raise NotImplementedError

    async def record(self, group: list[Decision]) -> None:
        raise NotImplementedError


class Lane:
    def __init__(self, app_id: str, channel: str, hooks: LaneHooks, on_done: Callable[[], None]):
        self.app_id, self.channel, self.hooks = app_id, channel, hooks
        self.pending: deque[Decision] = deque()
        self.in_flight = 0
        self.tasks: set[asyncio.Task[None]] = set()
        self._on_done = on_done

    @property
    def idle(self) -> bool:
        return not self.pending and not self.in_flight

    def offer(self, decisions: list[Decision]) -> None:
        self.pending.extend(decisions)
        self.pump()

    def pump(self) -> None:
        """Start calls while the window has room."""
        if not self.pending:
            return
        setup = self.hooks.setup(self.app_id, self.channel)
        window, batch = max(1, setup.window), max(1, setup.batch_size)
        while self.pending and self.in_flight < window:
            size = min(batch, window - self.in_flight, len(self.pending))
            group = [self.pending.popleft() for _ in range(size)]
            self.in_flight += size
            self._spawn(self._call(group, setup))

    def release_pending(self) -> list[Decision]:
        """On stop: messages not started go back (the worker hands their claims back)."""
        left = list(self.pending)
        self.pending.clear()
        return left

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _call(self, group: list[Decision], setup: LaneSetup) -> None:
        try:
            try:
                await self._send(group, setup)
            except Exception:  # before the driver call (rate slots, attempt marks): not sent
                log.exception("lane could not send", app_id=self.app_id, channel=self.channel)
                for d in group:
                    d.released = d.result is None and d.deferred_to is None
            await self.hooks.record(group)
        finally:
            self.in_flight -= len(group)
            self._on_done()
            self.pump()

    async def _send(self, group: list[Decision], setup: LaneSetup) -> None:
        if setup.driver is None:
            text = f"channel {self.channel} is not configured"
            for d in group:
                d.result = failed(d.row.id, "CHANNEL_CONFIGURATION_MISSING", text)
            return
        started = self.hooks.now_ms()
        for d in group:
            d.started_ms = started
        ready = [d for d in group if self._keep(d)]
        if ready and setup.rate_limit:
            ready = await self.hooks.within_rate(ready, setup.rate_limit)
        if ready and setup.guarantee == AT_MOST_ONCE:
            marked = await self.hooks.mark_attempts(ready)
            ready = [d for d in ready if d.row.id in marked]  # others are no longer ours
        if ready:
            await self._call_driver(ready, setup)

    def _keep(self, d: Decision) -> bool:
        if self.hooks.lease_ok(d):
            return True
        d.released = True  # its lease could lapse mid-call: hand it back instead of sending
        return False

    async def _call_driver(self, ready: list[Decision], setup: LaneSetup) -> None:
        assert setup.driver is not None
        outbound = [d.outbound for d in ready if d.outbound is not None]
        try:
            with metrics.driver_call(setup.driver.name, self.channel):
                results = await asyncio.wait_for(setup.driver.send(outbound), setup.deadline_s)
        except TimeoutError:
            text = f"no answer from the channel within its {setup.deadline_s:g} s deadline"
            results = [_unknown(d, setup, text) for d in ready]
        except Exception as exc:  # a whole-call failure
            results = [_unknown(d, setup, f"driver error: {exc!s:.300}") for d in ready]
        by_id = {r.message_id: r for r in results}
        for d in ready:
            d.result = by_id.get(d.row.id) or _unknown(d, setup, "driver returned no result")


def _unknown(d: Decision, setup: LaneSetup, text: str) -> SendResult:
    """The call's outcome is unknown: retry where a second send is allowed, else fail."""
    if setup.guarantee == AT_MOST_ONCE:
        return failed(d.row.id, "UNKNOWN", f"{text}; not retried (at_most_once)")
    return SendResult(d.row.id, "retry", "UNKNOWN", text)
