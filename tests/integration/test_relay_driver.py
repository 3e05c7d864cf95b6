"""The conversation_api driver relaying to a real upstream: a second convbatch, on its own
database, behind real HTTP. Its webhook worker posts signed receipts back to our live server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import ClientSession, web
from sqlalchemy import select

from convbatch.bootstrap import Tenant, create_tenant
from convbatch.callbacks.policy import WebhookSettings
from convbatch.callbacks.sender import OutboxSender
from convbatch.callbacks.signing import signature_headers
from convbatch.channels.base import Outbound
from convbatch.channels.conversation_api import ConversationApiDriver, parse_settings
from convbatch.channels.oauth import AccessKey, TokenCache
from convbatch.clock import SystemClock
from convbatch.config import Settings
from convbatch.db.engine import Database
from convbatch.db.tables import messages, relay_messages, sandbox_inbox
from tests.api.builders import batch
from tests.integration.helpers import FAST, wait_until
from tests.support import LiveServer, free_port

SECRET = "relay-callback-secret"
SMS = {"channel": "SMS", "static_bearer": {"claimed_identity": "x", "token": "y"}}


@dataclass
class Side:
    """One running convbatch: its server, database, tenant and an HTTP client with a token."""

    server: LiveServer
    db: Database
    tenant: Tenant
    client: httpx.AsyncClient
    headers: dict[str, str] = field(default_factory=dict)

    async def post(self, path: str, body: Any) -> httpx.Response:
        return await self.client.post(path, json=body, headers=self.headers)

    async def get(self, path: str) -> httpx.Response:
        return await self.client.get(path, headers=self.headers)

    def conv(self, path: str) -> str:
        return f"/conversation/v1/projects/{self.tenant.project_id}{path}"

    async def rows(self, table) -> list[Any]:
        async with self.db.read() as conn:
            return list((await conn.execute(select(table))).all())


@asynccontextmanager
async def running(database_url: str, **extra: Any) -> AsyncIterator[Side]:
    db = Database(database_url)
    async with db.transaction() as conn:
        tenant = await create_tenant(conn, int(time.time() * 1000))
    with LiveServer(Settings(database_url=database_url, extra=extra, **FAST)) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            form = {"grant_type": "client_credentials"}
            auth = (tenant.key_id, tenant.key_secret)
            token = (await client.post("/oauth2/token", data=form, auth=auth)).json()
            side = Side(server, db, tenant, client)
            side.headers = {"Authorization": f"Bearer {token['access_token']}"}
            try:
                yield side
            finally:
                await db.dispose()


@asynccontextmanager
async def webhook_worker(side: Side) -> AsyncIterator[None]:
    """The upstream's webhook delivery loop, run beside its server."""
    sender = OutboxSender(side.db, SystemClock(), WebhookSettings(backoff_base_s=0.05))

    async def loop() -> None:
        while True:
            await sender.run_once()
            await asyncio.sleep(0.02)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await sender.aclose()


async def upstream_app(up: Side) -> str:
    body = {"display_name": "upstream", "channel_credentials": [{**SMS, "driver": "sandbox"}],
            "callback_settings": {"secret_for_overridden_callback_urls": SECRET}}  # fmt: skip
    reply = await up.post(up.conv("/apps"), body)
    assert reply.status_code == 200, reply.text
    return str(reply.json()["id"])


def relay_settings(up: Side, up_app: str, origin: str, ours: Side) -> dict[str, Any]:
    return {"base_url": f"{origin}/conversation", "auth_url": origin,
            "project_id": up.tenant.project_id, "key_id": up.tenant.key_id,
            "key_secret": up.tenant.key_secret, "app_id": up_app, "timeout": 5,
            "callback_base": ours.server.url, "callback_secret": SECRET}  # fmt: skip


async def relay_app(ours: Side, settings: dict[str, Any]) -> str:
    body = {"display_name": "relay", "channel_credentials": [
        {**SMS, "driver": "conversation_api", "driver_settings": settings}]}  # fmt: skip
    reply = await ours.post(ours.conv("/apps"), body)
    assert reply.status_code == 200, reply.text
    return str(reply.json()["id"])


async def processed(ours: Side, batch_id: str) -> dict[str, Any]:
    path = f"/v1/projects/{ours.tenant.project_id}/messages/{batch_id}"

    async def done() -> bool:
        return bool((await ours.get(path)).json()["status"] == "PROCESSED")

    await wait_until(done)
    return dict((await ours.get(path)).json())


async def upstream_inbox(up: Side, count: int) -> list[Any]:
    async def filled() -> bool:
        return len(await up.rows(sandbox_inbox)) >= count

    await wait_until(filled)
    await asyncio.sleep(0.3)  # room for a duplicate to show up, were there one
    received = await up.rows(sandbox_inbox)
    assert len(received) == count
    return received


async def test_relays_each_message_once_and_ingests_signed_receipts(
    database_url, database_factory, tmp_path
):
    up_url = await database_factory.sqlite(tmp_path / "upstream.db")
    async with running(up_url) as up, running(database_url) as ours, webhook_worker(up):
        up_app = await upstream_app(up)
        relay = relay_settings(up, up_app, up.server.url, ours)
        app_id = await relay_app(ours, relay)
        reply = await ours.post(f"/v1/projects/{ours.tenant.project_id}/messages",
                                batch(app_id, 8, message_metadata={"crm": "7"}))  # fmt: skip
        batch_id = reply.json()["batch_id"]
        status = await processed(ours, batch_id)
        assert status["counts"]["failed"] == 0

        # Accepted upstream is not yet sent upstream: its own engine does that.
        received = await upstream_inbox(up, 8)
        assert {r.deliveries for r in received} == {1}
        ours_sent = {r.identity: r for r in await ours.rows(messages)}
        assert {r.identity for r in received} == set(ours_sent)
        bodies = {r.identity: json.loads(r.body) for r in received}
        assert bodies["+15550000039"] == {"text_message": {"text": "Hello n3"}}
        upstream_metadata = [json.loads(r.metadata) for r in await up.rows(messages)]
        assert all(m == {"crm": "7", "_batch_id": batch_id} for m in upstream_metadata)
        mapping = await ours.rows(relay_messages)
        assert {m.message_id for m in mapping} == {r.id for r in ours_sent.values()}

        async def all_delivered() -> bool:
            path = f"/v1/projects/{ours.tenant.project_id}/messages/{batch_id}"
            return bool((await ours.get(path)).json()["counts"]["delivered"] == 8)

        await wait_until(all_delivered)
        await check_signature_is_required(ours, app_id, mapping[0].upstream_id)
        await check_relayed_message_is_not_sent_again(ours, up, app_id, relay, mapping[0])


async def check_signature_is_required(ours: Side, app_id: str, upstream_id: str) -> None:
    url = ours.conv(f"/apps/{app_id}/relay-receipts")
    report = {"message_id": upstream_id, "status": "FAILED", "reason": {"code": "UNKNOWN"}}
    raw = json.dumps({"app_id": "x", "project_id": "y", "message_delivery_report": report})
    headers = {"Content-Type": "application/json"}
    unsigned = await ours.client.post(url, content=raw, headers=headers)
    assert unsigned.status_code == 401
    forged = {**headers, **signature_headers("wrong-secret", raw.encode(), int(time.time()))}
    assert (await ours.client.post(url, content=raw, headers=forged)).status_code == 401
    rows = await ours.rows(messages)
    assert {r.state for r in rows} == {"SENT"}  # the forged FAILED changed nothing
    signed = {**headers, **signature_headers(SECRET, b"{}", int(time.time()))}
    assert (await ours.client.post(url, content=b"{}", headers=signed)).status_code == 200


async def check_relayed_message_is_not_sent_again(
    ours: Side, up: Side, app_id: str, relay: dict[str, Any], mapped: Any
) -> None:
    """A worker that crashed after the upstream took a message sends it again on restart; the
    stored mapping answers for it instead."""
    driver = ConversationApiDriver(
        ours.db, SystemClock(), parse_settings(relay), TokenCache(), None
    )
    again = Outbound(mapped.message_id, ours.tenant.project_id, app_id, None, 0, "SMS",
                     "+15550000009", {"text_message": {"text": "again"}}, "{}", 2)  # fmt: skip
    try:
        [result] = await driver.send([again])
    finally:
        await driver.aclose()
    assert result.outcome == "accepted"
    assert len(await up.rows(messages)) == 8  # the upstream was not asked again


@dataclass
class Proxy:
    """Stands in front of the upstream; answers scripted failures to the first sends."""

    target: str
    script: deque[tuple[int, dict[str, str]]]
    port: int = field(default_factory=free_port)
    failed: int = 0
    token_requests: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if request.path == "/oauth2/token":
            self.token_requests += 1
        if request.path.endswith("/messages:send") and self.script:
            status, headers = self.script.popleft()
            self.failed += 1
            error = {"error": {"code": status, "message": "busy", "status": "UNAVAILABLE"}}
            return web.json_response(error, status=status, headers=headers)
        keep = {k: v for k, v in request.headers.items()
                if k.lower() in ("authorization", "content-type")}  # fmt: skip
        async with (
            ClientSession() as session,
            session.request(
                request.method, self.target + request.path_qs, data=body, headers=keep
            ) as reply,
        ):
            payload = await reply.read()
            kind = reply.headers.get("Content-Type", "application/json").split(";")[0]
            return web.Response(status=reply.status, body=payload, content_type=kind)


@asynccontextmanager
async def proxy(target: str, script: list[tuple[int, dict[str, str]]]) -> AsyncIterator[Proxy]:
    found = Proxy(target, deque(script))
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", found.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", found.port).start()
    try:
        yield found
    finally:
        await runner.cleanup()


async def test_busy_upstream_is_retried_with_backoff_and_nothing_is_sent_twice(
    database_url, database_factory, tmp_path
):
    expired = {"WWW-Authenticate": 'Bearer error="invalid_token", error_description="expired"'}
    script = [(401, expired), (429, {"Retry-After": "0"}), (503, {}), (429, {}), (503, {}),
              (502, {}), (429, {}), (503, {})]  # fmt: skip
    up_url = await database_factory.sqlite(tmp_path / "upstream.db")
    async with (
        running(up_url) as up,
        running(database_url) as ours,
        proxy(up.server.url, script) as front,
    ):
        up_app = await upstream_app(up)
        app_id = await relay_app(ours, relay_settings(up, up_app, front.url, ours))
        reply = await ours.post(f"/v1/projects/{ours.tenant.project_id}/messages",
                                batch(app_id, 5))  # fmt: skip
        status = await processed(ours, reply.json()["batch_id"])
        assert status["counts"]["failed"] == 0 and status["counts"]["queued"] == 0

        received = await upstream_inbox(up, 5)
        assert {r.deliveries for r in received} == {1}
        assert front.failed == len(script)
        assert front.token_requests == 2  # the first token, then a new one after the 401
        ours_rows = await ours.rows(messages)
        assert {r.state for r in ours_rows} == {"SENT"}
        assert sum(r.attempts for r in ours_rows) > 5
        assert len(await ours.rows(relay_messages)) == 5
        await check_token_is_renewed_before_expiry(front, up)


async def check_token_is_renewed_before_expiry(front: Proxy, up: Side) -> None:
    now = [0.0]
    cache = TokenCache(lambda: now[0])
    key = AccessKey(front.url, up.tenant.key_id, up.tenant.key_secret)
    before = front.token_requests
    async with ClientSession() as session:
        await cache.token(session, key, 5)
        await cache.token(session, key, 5)
        assert front.token_requests == before + 1  # cached
        now[0] = 3600 - 61  # the server's tokens last 3600 s; renewal starts 60 s before
        await cache.token(session, key, 5)
        assert front.token_requests == before + 1
        now[0] = 3600 - 59
        await cache.token(session, key, 5)
        assert front.token_requests == before + 2
