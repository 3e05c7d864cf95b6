"""GET message as the SDKs read it: a single send's metadata as sent, and message_status."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sinch import SinchClient
from sqlalchemy import update

from convbatch.db.tables import messages
from tests.api.builders import batch, sms
from tests.api.conversation_client import conv
from tests.api.test_sdk import make_tenant, sdk_client
from tests.integration.helpers import FAST
from tests.support import LiveServer


async def single(api, **fields: Any) -> dict[str, Any]:
    body = {"app_id": api.tenant.app_id, "recipient": sms("+46700000009"),
            "message": {"text_message": {"text": "Total ${amount}"}}, **fields}  # fmt: skip
    reply = await conv(api).post("/messages:send", body)
    assert reply.status_code == 200, reply.text
    got = await conv(api).get(f"/messages/{reply.json()['message_id']}")
    assert got.status_code == 200, got.text
    return dict(got.json())


async def test_single_send_reads_back_its_metadata_and_no_carrier_batch(api):
    got = await single(api, message_metadata='{"order": 17}')
    assert got["metadata"] == '{"order": 17}'
    assert "_batch_id" not in got["metadata"]
    assert "batch_id" not in got and "message_index" not in got
    assert got["app_message"] == {"text_message": {"text": "Total ${amount}"}}
    assert (await single(api))["metadata"] == ""
    listed = (await conv(api).get("/messages")).json()["messages"]
    assert {m["metadata"] for m in listed} == {"", '{"order": 17}'}


async def set_state(api, message_id: str, **values: Any) -> dict[str, Any]:
    async with api.db.transaction() as conn:
        await conn.execute(update(messages).where(messages.c.id == message_id).values(**values))
    return dict((await conv(api).get(f"/messages/{message_id}")).json())


async def test_message_status_follows_the_engine_and_receipts(api):
    reply = await api.post("/messages", batch(api.tenant.app_id, 1))
    batch_id = reply.json()["batch_id"]
    [message] = (await conv(api).get("/messages", batch_id=batch_id)).json()["messages"]
    assert message["message_status"]["status"] == "QUEUED"
    assert message["message_status"]["event_time"].endswith("Z")
    assert "reason" not in message["message_status"]
    got = await set_state(api, message["id"], state="SENT", channel="SMS", identity="+1")
    assert got["message_status"]["status"] == "QUEUED_ON_CHANNEL"
    got = await set_state(api, message["id"], delivery_status="DELIVERED")
    assert got["message_status"]["status"] == "DELIVERED"
    failed = {"state": "FAILED", "delivery_status": "FAILED",
              "reason_code": "RECIPIENT_NOT_REACHABLE", "reason_description": "gone"}  # fmt: skip
    got = await set_state(api, message["id"], **failed)
    assert got["message_status"]["status"] == "FAILED"
    assert got["message_status"]["reason"] == "RECIPIENT_NOT_REACHABLE"
    # The extensions stay beside it.
    assert got["status"] == "FAILED" and got["reason"]["code"] == "RECIPIENT_NOT_REACHABLE"
    got = await set_state(api, message["id"], state="CANCELLED", delivery_status=None,
                          reason_code=None)  # fmt: skip
    assert "message_status" not in got


def sdk_round_trip(client: SinchClient, app_id: str) -> Any:
    sent = client.conversation.messages.send_text_message(
        app_id=app_id, text="Hi", message_metadata="order=17",
        recipient_identities=[{"channel": "SMS", "identity": "+46700000009"}],
    )  # fmt: skip
    return client.conversation.messages.get(sent.message_id)


async def test_sdk_reads_back_single_send_metadata(settings):
    tenant = await make_tenant(settings)
    with LiveServer(settings) as server:
        fetched = await asyncio.to_thread(sdk_round_trip, sdk_client(server, tenant), tenant.app_id)
    assert fetched.metadata == "order=17"
    assert fetched.processing_mode == "CONVERSATION"


async def test_update_and_delete_a_message_that_left_the_queue(api):
    reply = await api.post("/messages", batch(api.tenant.app_id, 2))
    batch_id = reply.json()["batch_id"]
    first, second = (await conv(api).get("/messages", batch_id=batch_id)).json()["messages"]
    path = conv(api).url(f"/messages/{first['id']}")
    # Still queued: the engine owns it.
    queued = await api.client.patch(path, json={"metadata": "x"}, headers=api.auth)
    assert queued.status_code == 400
    assert queued.json()["error"]["status"] == "FAILED_PRECONDITION"
    await set_state(api, first["id"], state="SENT", channel="SMS", identity="+1",
                    metadata=first["metadata"])  # fmt: skip
    changed = await api.client.patch(path, json={"metadata": "order=18"}, headers=api.auth)
    assert changed.status_code == 200, changed.text
    assert changed.json()["metadata"] == "order=18"
    assert (await conv(api).get(f"/messages/{first['id']}")).json()["metadata"] == "order=18"
    assert (await api.client.delete(path, headers=api.auth)).json() == {}
    assert (await conv(api).get(f"/messages/{first['id']}")).status_code == 404
    assert (await api.client.delete(path, headers=api.auth)).status_code == 404
    listed = (await conv(api).get("/messages", batch_id=batch_id)).json()["messages"]
    assert [m["id"] for m in listed] == [second["id"]]
    assert (await api.get(f"/messages/{batch_id}")).json()["counts"]["total"] == 2


def sdk_update_delete(client: SinchClient, app_id: str) -> dict[str, Any]:
    messages_api = client.conversation.messages
    identities = [{"channel": "SMS", "identity": "+46700000009"}]
    sent = messages_api.send_text_message(app_id=app_id, text="Hi", recipient_identities=identities)
    updated = None
    for _ in range(200):  # refused while queued; the engine sends it within a few polls
        try:
            updated = messages_api.update(sent.message_id, metadata="changed")
            break
        except Exception:
            time.sleep(0.05)
    messages_api.delete(sent.message_id)
    try:
        messages_api.get(sent.message_id)
        gone = False
    except Exception:
        gone = True
    return {"updated": updated, "gone": gone}


async def test_sdk_updates_and_deletes_a_message(settings):
    tenant = await make_tenant(settings)
    with LiveServer(settings.with_(**FAST)) as server:
        result = await asyncio.to_thread(
            sdk_update_delete, sdk_client(server, tenant), tenant.app_id
        )
    assert result["updated"].metadata == "changed"
    assert result["gone"]
