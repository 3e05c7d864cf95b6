"""GET /conversation/.../messages: every filter of the SDKs' messages.list, newest first."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sinch import SinchClient

from tests.api.builders import batch, sms
from tests.api.conversation_client import bad_field, conv
from tests.api.test_sdk import make_tenant, sdk_client
from tests.api.test_wire_sends import dispatch_app
from tests.support import LiveServer


async def contact(api, identity: str) -> str:
    body = {"channel_identities": [{"channel": "SMS", "identity": identity}], "language": "EN_US"}
    reply = await conv(api).post("/contacts", body)
    assert reply.status_code == 200, reply.text
    return str(reply.json()["id"])


async def sent(api, app_id: str, recipients: list[dict[str, Any]], **fields: Any) -> str:
    body = batch(app_id, 0, **fields)
    body["recipient_and_params"] = [
        {"recipient": r, "parameters": {"name": "x"}} for r in recipients
    ]
    reply = await api.post("/messages", body)
    assert reply.status_code == 200, reply.text
    await asyncio.sleep(0.005)  # the next send is accepted in a later millisecond
    return str(reply.json()["batch_id"])


async def listed(api, **params: Any) -> list[tuple[str, int]]:
    reply = await conv(api).get("/messages", **params)
    assert reply.status_code == 200, reply.text
    return [(m["batch_id"], m["message_index"]) for m in reply.json()["messages"]]


async def scenario(api) -> dict[str, str]:
    ann = await contact(api, "+46700000019")
    first = await sent(api, api.tenant.app_id, [{"contact_id": ann}, sms("+46700000029")])
    dispatch = await sent(api, await dispatch_app(api), [sms("+46700000039")])
    only = await sent(api, api.tenant.app_id, [sms("+46700000029")],
                      processing_strategy="DISPATCH_ONLY", message_metadata={"k": "v"})  # fmt: skip
    return {"ann": ann, "first": first, "dispatch": dispatch, "only": only}


async def test_list_is_newest_first_and_filters_by_contact_and_identity(api):
    s = await scenario(api)
    assert await listed(api) == [
        (s["only"], 0),
        (s["dispatch"], 0),
        (s["first"], 0),
        (s["first"], 1),
    ]
    assert await listed(api, contact_id=s["ann"]) == [(s["first"], 0)]
    assert await listed(api, contact_id="01EQBDK8771J6A1FV8MQPE1XAR") == []
    both = [(s["only"], 0), (s["first"], 1)]
    assert await listed(api, channel_identity="+46700000029") == both
    # The same identity with its + left unencoded (read as a space) or encoded twice.
    raw = await api.client.get(
        conv(api).url("/messages") + "?channel_identity=+46700000029", headers=api.auth
    )
    assert [(m["batch_id"], m["message_index"]) for m in raw.json()["messages"]] == both
    assert await listed(api, channel_identity="%2B46700000029") == both


async def test_list_filters_by_source_direction_conversation_and_view(api):
    s = await scenario(api)
    assert await listed(api, messages_source="DISPATCH_SOURCE") == [
        (s["only"], 0),
        (s["dispatch"], 0),
    ]
    assert await listed(api, messages_source="CONVERSATION_SOURCE") == [
        (s["first"], 0),
        (s["first"], 1),
    ]
    assert await listed(api, only_recipient_originated="true") == []
    assert await listed(api, only_recipient_originated="false", app_id=api.tenant.app_id) == [
        (s["only"], 0), (s["first"], 0), (s["first"], 1)]  # fmt: skip
    assert await listed(api, direction="TO_APP") == []
    assert await listed(api, conversation_id="01EQBDK8771J6A1FV8MQPE1XAR") == []
    with_meta = (await conv(api).get("/messages", batch_id=s["only"])).json()["messages"][0]
    assert '"k":"v"' in with_meta["metadata"]
    without = await conv(api).get("/messages", batch_id=s["only"], view="WITHOUT_METADATA")
    assert without.json()["messages"][0]["metadata"] == ""
    for name, value in (("view", "ALL"), ("messages_source", "X"), ("direction", "UP"),
                        ("only_recipient_originated", "maybe")):  # fmt: skip
        assert bad_field(await conv(api).get("/messages", **{name: value})) == name


async def test_newest_first_holds_across_pages(api):
    s = await scenario(api)
    seen, token = [], ""
    while True:
        page = (await conv(api).get("/messages", page_size=1, page_token=token)).json()
        seen += [(m["batch_id"], m["message_index"]) for m in page["messages"]]
        token = page["next_page_token"]
        if not token:
            break
    assert seen == [(s["only"], 0), (s["dispatch"], 0), (s["first"], 0), (s["first"], 1)]


def sdk_lists(client: SinchClient, contact_id: str) -> dict[str, list[Any]]:
    messages_api = client.conversation.messages
    return {
        "all": list(messages_api.list(page_size=1).iterator()),
        "contact": list(messages_api.list(contact_id=contact_id).iterator()),
        "identity": list(messages_api.list(channel_identity="+46700000029").iterator()),
        "dispatch": list(messages_api.list(messages_source="DISPATCH_SOURCE").iterator()),
        "inbound": list(messages_api.list(only_recipient_originated=True).iterator()),
        "plain": list(messages_api.list(view="WITHOUT_METADATA").iterator()),
    }


async def test_sdk_message_list_filters(settings):
    tenant = await make_tenant(settings)
    with LiveServer(settings) as server:
        client = sdk_client(server, tenant)
        ann = await asyncio.to_thread(
            client.conversation.contacts.create,
            channel_identities=[{"channel": "SMS", "identity": "+46700000019"}], language="EN_US",
        )  # fmt: skip
        token = client.authentication.get_auth_token().access_token
        headers = {"Authorization": f"Bearer {token}"}
        for recipients in ([{"contact_id": ann.id}, sms("+46700000029")], [sms("+46700000029")]):
            body = batch(tenant.app_id, 0, recipient_and_params=[
                {"recipient": r, "parameters": {"name": "x"}} for r in recipients])  # fmt: skip
            if len(recipients) == 1:
                body["processing_strategy"] = "DISPATCH_ONLY"
            reply = httpx.post(f"{server.url}/v1/projects/{tenant.project_id}/messages",
                               json=body, headers=headers)  # fmt: skip
            assert reply.status_code == 200, reply.text
            await asyncio.sleep(0.005)
        result = await asyncio.to_thread(sdk_lists, client, ann.id)
    newest, *older = result["all"]
    assert len(older) == 2 and newest.processing_mode == "DISPATCH"
    assert [m.contact_id for m in result["contact"]] == [ann.id]
    assert [m.id for m in result["identity"]] == [newest.id, older[1].id]
    assert [m.id for m in result["dispatch"]] == [newest.id]
    assert result["inbound"] == []
    assert {m.metadata for m in result["plain"]} <= {"", None}
