"""Webhook test kit: a real HTTP receiver on 127.0.0.1, an app with a fake clock and an outbox
sender, and builders for the events the engine would write."""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from sqlalchemy import select

from convbatch.callbacks import events as ev
from convbatch.callbacks.outbox import Event, Outbox
from convbatch.callbacks.policy import WebhookSettings
from convbatch.callbacks.sender import OutboxSender
from convbatch.clock import FakeClock
from convbatch.config import Settings
from convbatch.db.tables import outbox_events, webhook_attempts, webhook_deliveries
from convbatch.ids import new_ulid
from tests.support import Api, free_port, running_api

HANG = -1  # a scripted answer: hold the request until the receiver is released


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Records every request; answers from ``script`` (one status per request, then
    ``default``); a scripted answer may be (status, headers) or HANG."""

    port: int = 0
    default: Any = 200
    script: deque[Any] = field(default_factory=deque)
    calls: list[Call] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(c.body) for c in self.calls]

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.calls.append(Call(request.path, {k.lower(): v for k, v in request.headers.items()},
                               body))  # fmt: skip
        answer = self.script.popleft() if self.script else self.default
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if answer == HANG:
                await self.release.wait()
                answer = 200
            status, headers = answer if isinstance(answer, tuple) else (answer, {})
            text = "ok" if status < 400 else f"answer {status} from receiver"
            return web.Response(status=status, text=text, headers=headers)
        finally:
            self.in_flight -= 1

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1)
        await self._runner.setup()
        self.port = self.port or free_port()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        self.release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


@asynccontextmanager
async def receiver(**kwargs: Any) -> AsyncIterator[Receiver]:
    rx = await Receiver(**kwargs).start()
    try:
        yield rx
    finally:
        await rx.stop()


@dataclass
class Env:
    api: Api
    clock: FakeClock
    sender: OutboxSender

    @property
    def app_id(self) -> str:
        return self.api.tenant.app_id


@asynccontextmanager
async def webhook_env(settings: Settings, **tuning: Any) -> AsyncIterator[Env]:
    """The API (no engine) on a fake clock, and a sender on the same database and clock."""
    clock = FakeClock()
    async with running_api(settings, clock=clock) as api:
        sender = OutboxSender(api.db, clock, WebhookSettings(**tuning))
        try:
            yield Env(api, clock, sender)
        finally:
            await sender.aclose()


async def add_webhook(
    env: Env, target: str, triggers: tuple[str, ...] = ("MESSAGE_DELIVERY",),
    secret: str | None = "s3cr3t", target_type: str = "HTTP", app_id: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    body: dict[str, Any] = {"app_id": app_id or env.app_id, "target": target,
                            "triggers": list(triggers), "target_type": target_type}  # fmt: skip
    if secret is not None:
        body["secret"] = secret
    api = env.api
    reply = await api.client.post(api.conv_url("/webhooks"), json=body, headers=api.auth)
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def receipt(env: Env, message_id: str, status: str, app_id: str | None = None,
            callback_url: str | None = None, batch_id: str | None = None) -> Event:  # fmt: skip
    app = app_id or env.app_id
    report = ev.delivery_report(
        message_id=message_id, status=status, channel="SMS", identity="+15550001", app_id=app,
        contact_id=None, metadata="", processing_mode="DISPATCH", batch_id=batch_id,
        message_index=0 if batch_id else None,
    )  # fmt: skip
    payload = ev.envelope(env.api.project, app, "message_delivery_report", report, env.clock.now())
    return Event(env.api.project, app, "MESSAGE_DELIVERY", payload, batch_id, message_id,
                 callback_url)  # fmt: skip


def message_ids(count: int) -> list[str]:
    return [new_ulid() for _ in range(count)]


async def add(env: Env, events: list[Event]) -> None:
    async with env.api.db.transaction() as conn:
        outbox = Outbox(conn, env.clock.now())
        for event in events:
            outbox.add(event)
        await outbox.flush()


async def deliveries(env: Env) -> list[Any]:
    async with env.api.db.read() as conn:
        query = select(webhook_deliveries).order_by(
            webhook_deliveries.c.event_id, webhook_deliveries.c.target
        )
        return list((await conn.execute(query)).all())


async def attempts_of(env: Env, delivery_id: str) -> list[Any]:
    async with env.api.db.read() as conn:
        query = (
            select(webhook_attempts)
            .where(webhook_attempts.c.delivery_id == delivery_id)
            .order_by(webhook_attempts.c.id)
        )
        return list((await conn.execute(query)).all())


async def waiting_for_earlier(env: Env) -> set[str]:
    """Ids of the app's deliveries the API shows as held behind an earlier one (and so with
    no next attempt time of their own)."""
    api = env.api
    url = api.conv_url(f"/apps/{env.app_id}/webhook-deliveries?page_size=200")
    reply = await api.client.get(url, headers=api.auth)
    assert reply.status_code == 200, reply.text
    found = reply.json()["deliveries"]
    held = {d["id"] for d in found if d["waiting_for_earlier"]}
    assert all(d["next_attempt_time"] is None for d in found if d["id"] in held)
    return held


async def outbox_states(env: Env) -> list[str]:
    async with env.api.db.read() as conn:
        return [r.state for r in await conn.execute(select(outbox_events.c.state))]


async def drive(
    env: Env, done: Callable[[], Awaitable[bool]], advance_s: float = 0, timeout: float = 30
) -> None:
    """Run sender rounds (moving the fake clock by ``advance_s`` after each) until ``done``."""
    deadline = time.monotonic() + timeout
    while not await done():
        assert time.monotonic() < deadline, "webhook deliveries did not settle in time"
        await env.sender.run_once()
        await asyncio.sleep(0.01)
        env.clock.advance(advance_s)


def states(rows: list[Any]) -> list[str]:
    return [r.state for r in rows]
