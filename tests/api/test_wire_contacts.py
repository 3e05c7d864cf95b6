"""Contacts looked up by identity however a client encodes the + of a phone number."""

from __future__ import annotations

import asyncio

from sinch import SinchClient

from tests.api.conversation_client import conv
from tests.api.test_message_list_filters import contact
from tests.api.test_sdk import make_tenant, sdk_client
from tests.support import LiveServer


async def found(api, query: str) -> list[str]:
    reply = await api.client.get(conv(api).url("/contacts") + "?channel=SMS&" + query,
                                 headers=api.auth)  # fmt: skip
    assert reply.status_code == 200, reply.text
    return [c["id"] for c in reply.json()["contacts"]]


async def test_phone_identity_matches_with_plus_encoded_unencoded_or_doubly_encoded(api):
    ann = await contact(api, "+46700000019")
    await contact(api, "46700000019")  # the same digits without a +: another identity
    assert await found(api, "identity=%2B46700000019") == [ann]  # encoded: +
    assert await found(api, "identity=+46700000019") == [ann]  # unencoded: read as a space
    assert await found(api, "identity=%252B46700000019") == [ann]  # encoded twice
    assert await found(api, "identity=%2046700000019") == [ann]  # a space
    assert await found(api, "identity=%2B46700000018") == []


def sdk_finds(client: SinchClient) -> list[str]:
    client.conversation.contacts.create(
        channel_identities=[{"channel": "SMS", "identity": "+46700000019"}], language="EN_US"
    )
    return [
        c.id
        for c in client.conversation.contacts.list(
            channel="SMS", identity="+46700000019"
        ).iterator()
    ]


async def test_sdk_finds_a_contact_by_phone_identity(settings):
    tenant = await make_tenant(settings)
    with LiveServer(settings) as server:
        ids = await asyncio.to_thread(sdk_finds, sdk_client(server, tenant))
    assert len(ids) == 1
