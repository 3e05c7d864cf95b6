"""Conversation API message reads over the ledger the Batch API writes."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import update

from convbatch.db.tables import messages
from tests.api.builders import batch, sms
from tests.api.conversation_client import assert_not_found, bad_field, conv, other_project


async def send_batch(api, count: int = 3, **fields) -> str:
    reply = await api.post("/messages", batch(api.tenant.app_id, count, **fields))
    assert reply.status_code == 200, reply.text
    return str(reply.json()["batch_id"])


async def test_batch_messages_show_the_rendered_message_and_metadata(api):
    batch_id = await send_batch(api, 2, message_metadata={"source": "crm"})
    listed = (await conv(api).get("/messages", batch_id=batch_id)).json()
    assert listed["next_page_token"] == ""
    first, second = listed["messages"]
    assert first["app_message"] == {"text_message": {"text": "Hello n0"}}
    assert second["app_message"] == {"text_message": {"text": "Hello n1"}}
    assert json.loads(first["metadata"]) == {"source": "crm", "_batch_id": batch_id}
    assert first["direction"] == "TO_CONTACT" and first["status"] == "QUEUED"
    assert (first["batch_id"], first["message_index"]) == (batch_id, 0)
    assert first["processing_mode"] == "CONVERSATION"
    assert first["accept_time"].endswith("Z")
    assert "channel_identity" not in first and "reason" not in first
    assert (await conv(api).get(f"/messages/{first['id']}")).json() == first


async def test_engine_results_appear_on_the_message(api):
    batch_id = await send_batch(api, 1, processing_strategy="DISPATCH_ONLY")
    [message] = (await conv(api).get("/messages", batch_id=batch_id)).json()["messages"]
    async with api.db.transaction() as conn:
        await conn.execute(
            update(messages).where(messages.c.id == message["id"]).values(
                state="FAILED", channel="SMS", identity="+15550000000",
                delivery_status="FAILED", reason_code="RECIPIENT_NOT_REACHABLE",
                reason_description="unreachable",
            )
        )  # fmt: skip
    got = (await conv(api).get(f"/messages/{message['id']}")).json()
    assert got["channel_identity"] == {
        "channel": "SMS", "identity": "+15550000000", "app_id": api.tenant.app_id
    }  # fmt: skip
    assert got["status"] == "FAILED" and got["delivery_status"] == "FAILED"
    assert got["reason"] == {"code": "RECIPIENT_NOT_REACHABLE", "description": "unreachable"}
    assert got["processing_mode"] == "DISPATCH"


async def test_list_pages_and_filters(api):
    first_batch = await send_batch(api, 4)
    await asyncio.sleep(0.005)  # accepted in a later millisecond
    second_batch = await send_batch(api, 1)
    seen, token = [], ""
    for _ in range(3):
        params = {"page_size": 2, "app_id": api.tenant.app_id}
        page = (
            await conv(api).get("/messages", **params, **({"page_token": token} if token else {}))
        ).json()
        seen += [(m["batch_id"], m["message_index"]) for m in page["messages"]]
        token = page["next_page_token"]
    assert token == ""
    # Newest first by acceptance; one batch's messages in recipient order.
    assert seen == [(second_batch, 0)] + [(first_batch, i) for i in range(4)]
    assert (await conv(api).get("/messages", app_id="01ARZ3NDEKTSV4RRFFQ69G5FAV")).json() == {
        "messages": [], "next_page_token": ""
    }  # fmt: skip
    assert bad_field(await conv(api).get("/messages", start_time="yesterday")) == "start_time"


async def test_other_projects_messages_are_not_found(api):
    batch_id = await send_batch(api, 1)
    [message] = (await conv(api).get("/messages", batch_id=batch_id)).json()["messages"]
    other = await other_project(api)
    assert_not_found(await other.get(f"/messages/{message['id']}"))
    assert (await other.get("/messages", batch_id=batch_id)).json()["messages"] == []
    assert_not_found(await conv(api).get("/messages/01ARZ3NDEKTSV4RRFFQ69G5FAV"))


async def test_defaults_fill_gaps_and_unfillable_messages_show_the_template(api):
    recipients = [{"recipient": sms("+1")}, {"recipient": sms("+2"), "parameters": {"name": "Bo"}}]
    with_defaults = await send_batch(
        api, recipient_and_params=recipients, parameter_defaults={"name": "friend"}
    )
    without = await send_batch(api, recipient_and_params=recipients[:1])
    texts = {}
    for batch_id in (with_defaults, without):
        for m in (await conv(api).get("/messages", batch_id=batch_id)).json()["messages"]:
            texts[batch_id, m["message_index"]] = m["app_message"]["text_message"]["text"]
    assert texts == {
        (with_defaults, 0): "Hello friend",
        (with_defaults, 1): "Hello Bo",
        (without, 0): "Hello ${name}",
    }
