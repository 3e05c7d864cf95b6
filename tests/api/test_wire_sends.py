"""Send requests as clients of the real service write them: DISPATCH-mode apps and the
optional fields the reference lets a compatible server accept."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sinch import SinchClient
from sinch.domains.conversation.exceptions import ConversationException

from convbatch.db.tables import batches, messages
from tests.api.builders import batch, sms
from tests.api.conversation_client import bad_field, conv
from tests.api.test_batches_send import count_rows
from tests.api.test_sdk import make_tenant, sdk_client
from tests.support import LiveServer

CONTACT = "01EQBDK8771J6A1FV8MQPE1XAR"
SMS_CREDENTIALS = {"channel": "SMS", "static_bearer": {"claimed_identity": "x", "token": "y"}}


async def dispatch_app(api) -> str:
    body = {"display_name": "Dispatch", "channel_credentials": [SMS_CREDENTIALS],
            "processing_mode": "DISPATCH"}  # fmt: skip
    reply = await conv(api).post("/apps", body)
    assert reply.status_code == 200, reply.text
    return str(reply.json()["id"])


async def test_dispatch_mode_app_refuses_contact_id_recipients_in_a_batch(api):
    app_id = await dispatch_app(api)
    body = batch(app_id, 3)
    body["recipient_and_params"][2]["recipient"] = {"contact_id": CONTACT}
    reply = await api.post("/messages", body)
    assert bad_field(reply) == "recipient_and_params[2].recipient.contact_id"
    assert "DISPATCH" in reply.json()["error"]["message"]
    assert await count_rows(api, batches) == 0 and await count_rows(api, messages) == 0
    # identified_by recipients are fine, and a CONVERSATION-mode app still takes contact ids.
    assert (await api.post("/messages", batch(app_id, 3))).status_code == 200
    body = batch(api.tenant.app_id, 1)
    body["recipient_and_params"][0]["recipient"] = {"contact_id": CONTACT}
    assert (await api.post("/messages", body)).status_code == 200


async def test_dispatch_mode_app_refuses_a_contact_id_single_send(api):
    app_id = await dispatch_app(api)
    body = {"app_id": app_id, "recipient": {"contact_id": CONTACT},
            "message": {"text_message": {"text": "hi"}}}  # fmt: skip
    reply = await conv(api).post("/messages:send", body)
    assert bad_field(reply) == "recipient.contact_id"
    body["recipient"] = sms("+46700000009")
    assert (await conv(api).post("/messages:send", body)).status_code == 200


@pytest.mark.parametrize("strategy", ["REPLACE", "MERGE_PATCH"])
async def test_optional_send_fields_are_accepted_on_batches_and_single_sends(api, strategy):
    extra: dict[str, Any] = {
        "conversation_metadata_update_strategy": strategy,
        "queue": "HIGH_PRIORITY",
        "message_content_type": "CONTENT_MARKETING",
    }
    reply = await api.post("/messages", batch(api.tenant.app_id, 2, **extra))
    assert reply.status_code == 200, reply.text
    single = {"app_id": api.tenant.app_id, "recipient": sms("+46700000009"),
              "message": {"text_message": {"text": "hi"}}, **extra}  # fmt: skip
    assert (await conv(api).post("/messages:send", single)).status_code == 200


async def test_unknown_update_strategy_is_refused(api):
    body = batch(api.tenant.app_id, 1, conversation_metadata_update_strategy="APPEND")
    assert bad_field(await api.post("/messages", body)) == "conversation_metadata_update_strategy"


def sdk_sends(client: SinchClient, app_id: str) -> dict[str, Any]:
    messages_api = client.conversation.messages
    text = {"text_message": {"text": "hi"}}
    identities = [{"channel": "SMS", "identity": "+4670009"}]
    sent = messages_api.send(
        app_id=app_id, message=text, recipient_identities=identities,
        conversation_metadata={"a": "b"}, conversation_metadata_update_strategy="MERGE_PATCH",
        queue="HIGH_PRIORITY", message_content_type="CONTENT_NOTIFICATION",
    )  # fmt: skip
    try:
        messages_api.send(app_id=app_id, message=text, contact_id=CONTACT)
        refused = None
    except ConversationException as exc:
        refused = exc
    return {"sent": sent, "refused": refused}


async def test_sdk_sends_with_update_strategy_and_is_refused_contact_ids_in_dispatch_mode(
    api, settings
):
    tenant = await make_tenant(settings)
    with LiveServer(settings) as server:
        client = sdk_client(server, tenant)
        app = await asyncio.to_thread(
            client.conversation.apps.create,
            channel_credentials={"SMS": {"claimed_identity": "a", "token": "b"}},
            display_name="Dispatch", processing_mode="DISPATCH",
        )  # fmt: skip
        result = await asyncio.to_thread(sdk_sends, client, app.id)
    assert len(result["sent"].message_id) == 26
    refused = result["refused"]
    assert refused is not None and "recipient.contact_id" in str(refused)


MAP_VALUE_CASES = {
    "batch metadata value": (
        {"batch_metadata": {"team": "a", "campaign": 1}}, "batch_metadata.campaign"),
    "recipient parameter value": (
        {"recipient_and_params": [{"recipient": sms("+1"), "parameters": {"a b": None}}]},
        'recipient_and_params[0].parameters["a b"]'),
    "template parameter value": (
        {"message": {"template_message": {"channel_template": {"SMS": {
            "template_id": "t", "parameters": {"ok": "x", "code": ["1"]}}}}}},
        "message.template_message.channel_template.SMS.parameters.code"),
    "message metadata value": (
        {"message_metadata": {"source": {"nested": "x"}}}, "message_metadata.source"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(MAP_VALUE_CASES))
async def test_errors_in_map_values_name_the_key(api, case):
    fields, field = MAP_VALUE_CASES[case]
    reply = await api.post("/messages", batch(api.tenant.app_id, 1, **fields))
    assert bad_field(reply) == field
    assert field in reply.json()["error"]["message"]
