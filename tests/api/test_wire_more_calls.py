"""SDK calls beyond list and get: the last message per identity, identity conflicts and
channel profiles, answered as the reference describes instead of a route miss."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sinch import SinchClient

from tests.api.builders import batch, sms
from tests.api.conversation_client import bad_field, conv
from tests.api.test_message_list_filters import contact, listed, sent
from tests.api.test_sdk import make_tenant, sdk_client
from tests.support import LiveServer


async def last(api, body: dict[str, Any]) -> httpx.Response:
    return await api.client.post(conv(api).url("/messages:fetch-last-message"), json=body,
                                 headers=api.auth)  # fmt: skip


async def test_fetch_last_message_per_identity_and_contact(api):
    ann = await contact(api, "+46700000019")
    first = await sent(api, api.tenant.app_id, [{"contact_id": ann}, sms("+46700000029")])
    second = await sent(api, api.tenant.app_id, [sms("+46700000029")])
    reply = await last(api, {"channel_identities": ["+46700000029", "+46700000099"]})
    assert reply.status_code == 200, reply.text
    assert [(m["batch_id"], m["message_index"]) for m in reply.json()["messages"]] == [(second, 0)]
    reply = await last(api, {"contact_ids": [ann]})
    assert [(m["batch_id"], m["message_index"]) for m in reply.json()["messages"]] == [(first, 0)]
    both = await last(api, {"contact_ids": [ann], "channel_identities": ["+1"]})
    assert bad_field(both) == "contact_ids"
    two = {"channel_identities": ["+46700000029", "+46700000019"], "page_size": 1}
    paged = (await last(api, two)).json()
    assert len(paged["messages"]) == 1 and paged["next_page_token"]
    rest = (await last(api, {**two, "page_token": paged["next_page_token"]})).json()
    assert rest["messages"] == [] and rest["next_page_token"] == ""
    assert await listed(api, batch_id=second) == [(second, 0)]


async def test_identity_conflicts_list_identities_shared_by_contacts(api):
    a = await contact(api, "+46700000001")
    b = await contact(api, "+46700000001")
    await contact(api, "+46700000002")
    reply = await conv(api).get("/contacts:identityConflicts")
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"conflicts": [{"identity": "+46700000001", "channels": ["SMS"],
                                           "contact_ids": sorted([a, b])}],
                            "next_page_token": ""}  # fmt: skip


async def test_channel_profile_is_never_available(api):
    body = {"app_id": api.tenant.app_id, "recipient": sms("+46700000001"), "channel": "MESSENGER"}
    reply = await conv(api).post("/contacts:getChannelProfile", body)
    assert reply.status_code == 404 and reply.json()["error"]["status"] == "NOT_FOUND"
    assert bad_field(await conv(api).post("/contacts:getChannelProfile",
                                          {**body, "channel": "SMS"})) == "channel"  # fmt: skip


def sdk_calls(
    client: SinchClient, server: LiveServer, app_id: str, project_id: str
) -> dict[str, Any]:
    conversation = client.conversation
    for _ in range(2):
        conversation.contacts.create(
            channel_identities=[{"channel": "SMS", "identity": "+46700000029"}], language="EN_US"
        )
    token = client.authentication.get_auth_token().access_token
    body = batch(app_id, 0, recipient_and_params=[{"recipient": sms("+46700000029"),
                                                   "parameters": {"name": "x"}}])  # fmt: skip
    reply = httpx.post(f"{server.url}/v1/projects/{project_id}/messages", json=body,
                       headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert reply.status_code == 200, reply.text
    last_messages = list(conversation.messages.list_last_messages_by_channel_identity(
        channel_identities=["+46700000029"]).iterator())  # fmt: skip
    conflicts = list(conversation.contacts.list_identity_conflicts().iterator())
    try:
        conversation.contacts.get_channel_profile(
            app_id=app_id,
            channel="MESSENGER",
            recipient={"contact_id": "01EQBDK8771J6A1FV8MQPE1XAR"},
        )
        profile_error = None
    except Exception as exc:  # the SDK raises its own error type for a 404
        profile_error = exc
    return {"last": last_messages, "conflicts": conflicts, "profile_error": profile_error}


async def test_sdk_last_messages_conflicts_and_profile(settings):
    tenant = await make_tenant(settings)
    with LiveServer(settings) as server:
        result = await asyncio.to_thread(
            sdk_calls, sdk_client(server, tenant), server, tenant.app_id, tenant.project_id
        )
    [message] = result["last"]
    assert message.channel_identity is None or message.channel_identity.identity == "+46700000029"
    [conflict] = result["conflicts"]
    assert conflict.identity == "+46700000029" and len(conflict.contact_ids) == 2
    assert "404" in str(result["profile_error"]) or "NOT_FOUND" in str(result["profile_error"])


async def test_merge_folds_the_source_into_the_destination(api):
    dest = await contact(api, "+46700000001")
    body = {
        "channel_identities": [{"channel": "SMS", "identity": "+46700000001"},
                               {"channel": "WHATSAPP", "identity": "+46700000002"}],
        "language": "EN_US", "email": "s@example.com", "channel_priority": ["WHATSAPP"],
    }  # fmt: skip
    source = (await conv(api).post("/contacts", body)).json()
    reply = await conv(api).post(
        f"/contacts/{dest}:merge", {"source_id": source["id"], "strategy": "MERGE"}
    )
    assert reply.status_code == 200, reply.text
    merged = reply.json()
    assert merged["id"] == dest and merged["email"] == "s@example.com"
    assert [(c["channel"], c["identity"]) for c in merged["channel_identities"]] == [
        ("SMS", "+46700000001"), ("WHATSAPP", "+46700000002")]  # fmt: skip
    assert merged["channel_priority"] == ["WHATSAPP"]
    assert (await conv(api).get(f"/contacts/{source['id']}")).status_code == 404
    assert (await conv(api).get("/contacts:identityConflicts")).json()["conflicts"] == []
    assert (
        bad_field(await conv(api).post(f"/contacts/{dest}:merge", {"source_id": dest}))
        == "source_id"
    )
    missing = await conv(api).post(f"/contacts/{dest}:merge", {"source_id": source["id"]})
    assert missing.status_code == 404


def sdk_merge(client: SinchClient) -> Any:
    contacts = client.conversation.contacts
    ids = [contacts.create(channel_identities=[{"channel": "SMS", "identity": f"+4670000000{n}"}],
                           language="EN_US").id for n in range(2)]  # fmt: skip
    return ids, contacts.merge_contact(destination_id=ids[0], source_id=ids[1])


async def test_sdk_merges_contacts(settings):
    tenant = await make_tenant(settings)
    with LiveServer(settings) as server:
        ids, merged = await asyncio.to_thread(sdk_merge, sdk_client(server, tenant))
    assert merged.id == ids[0]
    assert sorted(c.identity for c in merged.channel_identities) == ["+46700000000", "+46700000001"]
