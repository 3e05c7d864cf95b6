"""The http driver against a real local receiver: what it posts, retries, refusals, and receipts
posted back to the http-receipts route."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select

from convbatch.db.tables import messages
from tests.api.builders import sms
from tests.api.conversation_client import conv
from tests.integration.helpers import FAST, wait_for_status
from tests.support import free_port, running_api

RECEIPT_TOKEN = "receipt-token-1"


@dataclass
class Receiver:
    """Takes messages like a gateway: identities ending 503 fail once, 400 are refused."""

    url: str = ""
    posts: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.posts.append(body)
        self.headers.append(dict(request.headers))
        seen = sum(1 for p in self.posts if p["message_id"] == body["message_id"])
        if body["identity"].endswith("503") and seen == 1:
            return web.json_response({"error": "busy"}, status=503)
        if body["identity"].endswith("400"):
            return web.json_response({"error": {"status": "INVALID", "message": "no"}}, status=400)
        return web.json_response({"ok": True})


@asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    app = web.Application()
    app.router.add_post("/inbox", found.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    found.url = f"http://127.0.0.1:{port}/inbox"
    try:
        yield found
    finally:
        await runner.cleanup()


async def http_app(api, url: str) -> str:
    settings = {"url": url, "headers": {"Authorization": "Bearer gateway-key"},
                "receipt_token": RECEIPT_TOKEN, "callback_base": "http://convbatch"}  # fmt: skip
    body = {"display_name": "gateway", "channel_credentials": [{
        "channel": "SMS", "static_bearer": {"claimed_identity": "x", "token": "y"},
        "driver": "http", "driver_settings": settings}]}  # fmt: skip
    reply = await conv(api).post("/apps", body)
    assert reply.status_code == 200, reply.text
    return str(reply.json()["id"])


def people(*identities: str) -> list[dict[str, Any]]:
    return [{"recipient": sms(i), "parameters": {"name": i[-3:]}} for i in identities]


async def post_receipts(api, url: str, body: Any, token: str = RECEIPT_TOKEN):
    return await api.client.post(url, json=body, headers={"X-Receipt-Token": token})


async def test_posts_retries_refusals_and_receipts(settings):
    async with receiver() as gateway, running_api(settings.with_(**FAST), engine=True) as api:
        app_id = await http_app(api, gateway.url)
        body = {"app_id": app_id, "message": {"text_message": {"text": "Hi ${name}"}},
                "recipient_and_params": people("+46700000111", "+46700000503", "+46700000400"),
                "message_metadata": {"crm": "7"}}  # fmt: skip
        batch_id = (await api.post("/messages", body)).json()["batch_id"]
        status = await wait_for_status(api, batch_id, "PROCESSED")
        assert (status["counts"]["sent"], status["counts"]["failed"]) == (2, 1)
        assert Counter(p["identity"] for p in gateway.posts) == {
            "+46700000111": 1, "+46700000503": 2, "+46700000400": 1}  # fmt: skip
        async with api.db.read() as conn:
            rows = {r.idx: r for r in await conn.execute(select(messages))}
        assert rows[2].state == "FAILED" and rows[2].reason_code == "CHANNEL_REJECT"
        assert rows[1].attempts == 2 and rows[1].state == "SENT"

        first = next(p for p in gateway.posts if p["identity"] == "+46700000111")
        headers = gateway.headers[gateway.posts.index(first)]
        assert headers["Authorization"] == "Bearer gateway-key"
        assert headers["Idempotency-Key"] == first["message_id"] == rows[0].id
        assert first["message"] == {"text_message": {"text": "Hi 111"}}
        assert (first["batch_id"], first["message_index"], first["channel"]) == (batch_id, 0, "SMS")
        assert json.loads(first["metadata"]) == {"crm": "7", "_batch_id": batch_id}
        receipt_url = first["receipt_url"]
        assert receipt_url.endswith(f"/apps/{app_id}/http-receipts")

        wrong = await post_receipts(api, receipt_url, {"message_id": rows[0].id,
                                                       "status": "DELIVERED"}, "nope")  # fmt: skip
        assert wrong.status_code == 401
        unknown = {"message_id": "01EQBDK8771J6A1FV8MQPE1XAR", "status": "DELIVERED"}
        assert (await post_receipts(api, receipt_url, unknown)).status_code == 404
        both = [
            {"message_id": rows[0].id, "status": "DELIVERED"},
            {
                "message_id": rows[1].id,
                "status": "FAILED",
                "reason": {"code": "RECIPIENT_NOT_REACHABLE", "description": "phone off"},
            },
        ]
        assert (await post_receipts(api, receipt_url, both)).status_code == 200
        assert (await post_receipts(api, receipt_url, both)).status_code == 200  # harmless
        counts = (await api.get(f"/messages/{batch_id}")).json()["counts"]
        assert (counts["delivered"], counts["failed"], counts["sent"]) == (1, 2, 0)
        async with api.db.read() as conn:
            failed = (await conn.execute(select(messages).where(messages.c.id == rows[1].id))).one()
        assert (failed.reason_code, failed.reason_description) == (
            "RECIPIENT_NOT_REACHABLE", "phone off")  # fmt: skip


async def test_receipt_for_a_message_not_sent_yet_is_refused_for_later(settings):
    async with receiver() as gateway, running_api(settings.with_(**FAST), engine=True) as api:
        app_id = await http_app(api, gateway.url)
        later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        body = {"app_id": app_id, "message": {"text_message": {"text": "later"}},
                "recipient_and_params": people("+46700000111"), "send_after": later}  # fmt: skip
        batch_id = (await api.post("/messages", body)).json()["batch_id"]
        async with api.db.read() as conn:
            [row] = (await conn.execute(select(messages))).all()
        url = api.conv_url(f"/apps/{app_id}/http-receipts")
        reply = await post_receipts(api, url, {"message_id": row.id, "status": "DELIVERED"})
        assert reply.status_code == 503 and reply.headers["Retry-After"] == "1"
        counts = (await api.get(f"/messages/{batch_id}")).json()["counts"]
        assert (counts["delivered"], counts["queued"]) == (0, 1)
        assert gateway.posts == []
