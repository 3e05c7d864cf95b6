"""Finding: webhook targets, callback_url and driver URLs reached any host (loopback, metadata,
odd spellings), followed redirects, and showed the target's reply to the tenant."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from sqlalchemy import select

from convbatch.db.tables import messages
from convbatch.net.session import guarded_session
from tests.api.conversation_client import conv
from tests.integration.helpers import FAST, wait_for_status
from tests.integration.webhook_kit import receiver
from tests.security.kit import LOOPBACK, auth, batch, conv_path, served
from tests.support import free_port, running_api

REFUSED_HOSTS = [
    "127.0.0.1", "[::1]", "0x7f000001", "2130706433", "0177.0.0.1", "127.1", "localhost",
    "169.254.169.254", "[::ffff:127.0.0.1]", "[::ffff:169.254.169.254]", "10.1.2.3",
    "192.168.0.10", "172.16.0.1", "100.64.0.1", "224.0.0.1", "0.0.0.0", "[fe80::1]",
    "[fc00::1]", "[64:ff9b::7f00:1]",
]  # fmt: skip


@pytest.fixture
def no_allowlist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVBATCH_OUTBOUND_ALLOW", "")


def assert_refused(reply: Any, field: str) -> None:
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["details"][0]["field_violations"][0]["field"] == field, error


@pytest.mark.parametrize("host", REFUSED_HOSTS)
async def test_internal_hosts_are_refused_at_request_time(api, no_allowlist, host):
    url = f"http://{host}:8080/hook"
    hook = {"app_id": api.tenant.app_id, "target": url, "triggers": ["MESSAGE_DELIVERY"]}
    assert_refused(await conv(api).post("/webhooks", hook), "target")
    assert_refused(await api.post("/messages", batch(api.tenant.app_id, callback_url=url)),
                   "callback_url")  # fmt: skip
    for driver, key, settings in (
        ("http", "url", {"url": url}),
        ("conversation_api", "auth_url", {"base_url": "https://example.com", "auth_url": url}),
    ):
        channel = {"channel": "SMS", "driver": driver, "driver_settings": settings}
        reply = await conv(api).post("/apps", {"display_name": "x",
                                               "channel_credentials": [channel]})  # fmt: skip
        assert_refused(reply, f"channel_credentials[0].driver_settings.{key}")


async def test_public_hosts_and_allowlisted_ranges_are_accepted(api, monkeypatch):
    monkeypatch.setenv("CONVBATCH_OUTBOUND_ALLOW", "10.0.0.0/8,intranet.example")
    for target in ("https://example.com/h", "http://10.1.2.3/h", "http://intranet.example/h"):
        hook = {"app_id": api.tenant.app_id, "target": target, "triggers": ["MESSAGE_DELIVERY"]}
        reply = await conv(api).post("/webhooks", hook)
        assert reply.status_code == 200, reply.text
        await conv(api).delete(f"/webhooks/{reply.json()['id']}")
    hook = {"app_id": api.tenant.app_id, "target": "http://127.0.0.1/h",
            "triggers": ["MESSAGE_DELIVERY"]}  # fmt: skip
    assert_refused(await conv(api).post("/webhooks", hook), "target")


class Rebinding(AbstractResolver):
    """A name that looked public when the URL was accepted and resolves to loopback now."""

    async def resolve(self, host: str, port: int = 0, family: Any = socket.AF_INET
                      ) -> list[ResolveResult]:  # fmt: skip
        return [{"hostname": host, "host": "127.0.0.1", "port": port, "family": socket.AF_INET,
                 "proto": 0, "flags": 0}]  # fmt: skip

    async def close(self) -> None:
        return None


async def test_connect_time_check_is_on_the_resolved_address(monkeypatch):
    async with receiver() as rx:
        url = f"http://rebound.example:{rx.port}/hook"
        monkeypatch.setenv("CONVBATCH_OUTBOUND_ALLOW", "")
        async with guarded_session(resolver=Rebinding()) as session:
            with pytest.raises(aiohttp.ClientConnectorError, match=r"does not connect"):
                await session.post(url, data=b"{}")
        assert rx.calls == []
        monkeypatch.setenv("CONVBATCH_OUTBOUND_ALLOW", LOOPBACK)
        async with (
            guarded_session(resolver=Rebinding()) as session,
            session.post(url, data=b"{}") as reply,
        ):
            assert reply.status == 200
        assert len(rx.calls) == 1


async def wait_until(condition: Any, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


async def test_server_process_reaches_loopback_only_when_allowlisted(sqlite_url, tmp_path):
    async with receiver() as rx:
        async with served(sqlite_url, tmp_path / "closed") as (_server, client):
            app_id = await client.create_app()
            reply = await client.http.post(
                f"/v1/projects/{client.tenant.project_id}/messages",
                json=batch(app_id, callback_url=rx.url()),
                headers=auth(client),
            )
            assert_refused(reply, "callback_url")
            hook = {"app_id": app_id, "target": rx.url(), "triggers": ["MESSAGE_DELIVERY"]}
            reply = await client.http.post(conv_path(client, "/webhooks"), json=hook,
                                           headers=auth(client))  # fmt: skip
            assert_refused(reply, "target")
            await asyncio.sleep(0.5)
            assert rx.calls == []
        async with served(sqlite_url, tmp_path / "open", allow=LOOPBACK) as (_server, client):
            app_id = await client.create_app()
            await client.send(batch(app_id, callback_url=rx.url()))

            async def delivered() -> bool:
                return len(rx.calls) > 0

            await wait_until(delivered)


async def target_app(api: Any, url: str) -> str:
    channel = {"channel": "SMS", "driver": "http", "driver_settings": {"url": url}}
    reply = await conv(api).post("/apps", {"display_name": "t", "channel_credentials": [channel]})
    assert reply.status_code == 200, reply.text
    return str(reply.json()["id"])


async def test_http_driver_connects_only_where_allowed_and_shows_no_reply(settings, monkeypatch):
    """Accepted while loopback was open; the operator closes it: the driver never connects.
    Open again: the target's answer (status 400 with a body) is reported in our words."""
    hits: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        hits.append(request.path)
        if request.path == "/start":
            raise web.HTTPFound("/elsewhere")
        return web.Response(status=400, text="INTERNAL-ADMIN-PAGE contents")

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with running_api(settings.with_(**FAST), engine=True) as api:
            closed = await target_app(api, f"http://127.0.0.1:{port}/admin")
            redirecting = await target_app(api, f"http://127.0.0.1:{port}/start")
            monkeypatch.setenv("CONVBATCH_OUTBOUND_ALLOW", "")
            first = (await api.post("/messages", batch(closed))).json()["batch_id"]
            await asyncio.sleep(1.0)
            assert hits == []
            async with api.db.read() as conn:
                [row] = (await conn.execute(
                    select(messages).where(messages.c.batch_id == first))).all()  # fmt: skip
            assert "outbound policy" in (row.reason_description or "")
            monkeypatch.setenv("CONVBATCH_OUTBOUND_ALLOW", LOOPBACK)
            for app_id in (closed, redirecting):
                batch_id = (await api.post("/messages", batch(app_id))).json()["batch_id"]
                await wait_for_status(api, batch_id, "PROCESSED")
            assert hits.count("/start") == 1 and "/elsewhere" not in hits  # no redirect taken
            async with api.db.read() as conn:
                reasons = [r.reason_description for r in await conn.execute(select(messages))]
            assert not any("INTERNAL-ADMIN-PAGE" in (r or "") for r in reasons)
            assert any("400 Bad Request" in (r or "") for r in reasons)
    finally:
        await runner.cleanup()
