"""POST /conversation/.../messages:send: validation, the answer, and the engine sending it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sinch import SinchClient
from sqlalchemy import select

from convbatch.db.tables import batches, messages, outbox_events
from convbatch.ids import is_ulid
from tests.api.builders import sms
from tests.api.conversation_client import bad_field, conv
from tests.api.test_batches_send import count_rows
from tests.api.test_sdk import make_tenant, sdk_client
from tests.integration.helpers import FAST, inbox, wait_until
from tests.support import LiveServer, running_api

APP = "__APP__"


def single(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "app_id": APP,
        "recipient": sms("+46700000009"),
        "message": {"text_message": {"text": "Your total is ${amount}"}},
    }
    body.update(fields)
    return body


def without(name: str) -> dict[str, Any]:
    body = single()
    del body[name]
    return body


CASES: dict[str, tuple[dict[str, Any], str]] = {
    "no app_id": (without("app_id"), "app_id"),
    "no recipient": (without("recipient"), "recipient"),
    "no message": (without("message"), "message"),
    "two message types": (
        single(message={"text_message": {"text": "a"}, "media_message": {"url": "http://x/y"}}),
        "message",
    ),
    "both recipient forms": (
        single(recipient={"contact_id": "01EQBDK8771J6A1FV8MQPE1XAR", **sms("+4670")}),
        "recipient",
    ),
    "empty identities": (single(recipient={"identified_by": {"channel_identities": []}}),
                         "recipient.identified_by.channel_identities"),
    "bad channel": (single(recipient={"identified_by": {"channel_identities": [
        {"channel": "FAX", "identity": "1"}]}}),
        "recipient.identified_by.channel_identities[0].channel"),
    "ttl without unit": (single(ttl="60"), "ttl"),
    "ttl too short": (single(ttl="2s"), "ttl"),
    "callback not http": (single(callback_url="ftp://example.com/x"), "callback_url"),
    "metadata as object": (single(message_metadata={"a": "b"}), "message_metadata"),
    "metadata too long": (single(message_metadata="x" * 1025), "message_metadata"),
    "conversation metadata too long": (
        single(conversation_metadata={"k": "v" * 2100}), "conversation_metadata"
    ),
    "correlation id too long": (single(correlation_id="c" * 129), "correlation_id"),
    "channel property too long": (
        single(channel_properties={"WHATSAPP_HEADER": "h" * 1025}),
        "channel_properties.WHATSAPP_HEADER",
    ),
    "unconfigured channel": (single(channel_priority_order=["SMS", "MESSENGER"]),
                             "channel_priority_order[1]"),
    "dispatch with contact": (
        single(processing_strategy="DISPATCH_ONLY",
               recipient={"contact_id": "01EQBDK8771J6A1FV8MQPE1XAR"}),
        "recipient",
    ),
    "bad queue": (single(queue="LOW_PRIORITY"), "queue"),
    "bad update strategy": (single(conversation_metadata_update_strategy="PATCH"),
                            "conversation_metadata_update_strategy"),
    "unknown field": (single(recipient_and_params=[]), "recipient_and_params"),
}  # fmt: skip


def with_app(body: dict[str, Any], app_id: str) -> dict[str, Any]:
    return json.loads(json.dumps(body).replace(APP, app_id))


@pytest.mark.parametrize("case", list(CASES))
async def test_bad_requests_name_the_field_and_store_nothing(api, case):
    body, field = CASES[case]
    reply = await conv(api).post("/messages:send", with_app(body, api.tenant.app_id))
    assert bad_field(reply) == field
    assert await count_rows(api, messages) == 0
    assert await count_rows(api, batches) == 0


async def test_unknown_app_and_missing_token(api):
    reply = await conv(api).post("/messages:send", single(app_id="01EQBDK8771J6A1FV8MQPE1XAR"))
    assert reply.status_code == 404 and reply.json()["error"]["status"] == "NOT_FOUND"
    url = api.conv_url("/messages:send")
    reply = await api.client.post(url, json=with_app(single(), api.tenant.app_id))
    assert reply.status_code == 401
    assert await count_rows(api, messages) == 0


async def test_accepted_send_is_one_queued_message_without_batch_callbacks(api):
    hook = {"app_id": api.tenant.app_id, "target": "http://127.0.0.1:9/hook",
            "triggers": ["BATCH_STATUS_UPDATE", "MESSAGE_DELIVERY"]}  # fmt: skip
    assert (await conv(api).post("/webhooks", hook)).status_code == 200
    reply = await conv(api).post("/messages:send", with_app(single(), api.tenant.app_id))
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert set(body) == {"message_id", "accepted_time"}
    assert is_ulid(body["message_id"]) and body["accepted_time"].endswith("Z")
    async with api.db.read() as conn:
        [row] = (await conn.execute(select(messages))).all()
        [job] = (await conn.execute(select(batches))).all()
        events = (await conn.execute(select(outbox_events))).all()
    assert row.id == body["message_id"] and row.state == "QUEUED" and row.batch_id == job.id
    assert (job.batch_type, job.operation, job.total) == ("MESSAGES", "SINGLE", 1)
    assert job.metadata == "{}"
    assert events == []
    got = (await conv(api).get(f"/messages/{body['message_id']}")).json()
    assert got["app_message"] == {"text_message": {"text": "Your total is ${amount}"}}
    assert got["status"] == "QUEUED"


async def test_engine_sends_it_once_with_metadata_as_given(settings):
    async with running_api(settings.with_(**FAST), engine=True) as api:
        fields = {"message_metadata": "order=17", "correlation_id": "corr-1",
                  "conversation_metadata": {"topic": "billing", "level": 2},
                  "callback_url": "http://127.0.0.1:9/receipts"}  # fmt: skip
        body = with_app(single(**fields), api.tenant.app_id)
        reply = await conv(api).post("/messages:send", body)
        assert reply.status_code == 200, reply.text
        message_id = reply.json()["message_id"]

        async def delivered() -> bool:
            got = (await conv(api).get(f"/messages/{message_id}")).json()
            return bool(got["status"] == "SENT" and got.get("delivery_status") == "DELIVERED")

        await wait_until(delivered)
        [received] = await inbox(api)
        assert (received.message_id, received.deliveries) == (message_id, 1)
        assert json.loads(received.body) == {"text_message": {"text": "Your total is ${amount}"}}
        async with api.db.read() as conn:
            row = (await conn.execute(select(messages))).one()
            reports = [json.loads(e.payload) for e in await conn.execute(select(outbox_events))]
        assert row.metadata == "order=17"
        receipts = [r for r in reports if "message_delivery_report" in r]
        assert [r["message_delivery_report"]["status"] for r in receipts] == [
            "QUEUED_ON_CHANNEL", "DELIVERED"]  # fmt: skip
        assert {r["message_delivery_report"]["metadata"] for r in receipts} == {"order=17"}
        assert {r["correlation_id"] for r in receipts} == {"corr-1"}


def sdk_send(client: SinchClient, app_id: str) -> tuple[Any, Any]:
    sent = client.conversation.messages.send_text_message(
        app_id=app_id, text="Hello from the SDK",
        recipient_identities=[{"channel": "SMS", "identity": "+46700000009"}],
        ttl=60, message_metadata="sdk", correlation_id="c1",
    )  # fmt: skip
    return sent, client.conversation.messages.get(sent.message_id)


async def test_official_sdk_sends_and_reads_back(settings):
    tenant = await make_tenant(settings)
    with LiveServer(settings.with_(**FAST)) as server:
        sent, fetched = await asyncio.to_thread(sdk_send, sdk_client(server, tenant), tenant.app_id)
    assert is_ulid(sent.message_id) and sent.accepted_time is not None
    assert fetched.id == sent.message_id
    assert fetched.app_message.text_message.text == "Hello from the SDK"
