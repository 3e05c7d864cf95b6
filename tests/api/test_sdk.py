"""The official sinch SDK (2.3.0) against a real server on a loopback port."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from sinch import SinchClient

from convbatch.bootstrap import Tenant, create_tenant
from convbatch.config import Settings
from convbatch.db.engine import Database
from tests.support import LiveServer


async def make_tenant(settings: Settings) -> Tenant:
    # The server's own database: the live server opens the same URL.
    db = Database(settings.database_url)
    try:
        async with db.transaction() as conn:
            return await create_tenant(conn, int(time.time() * 1000), "sdk")
    finally:
        await db.dispose()


def sdk_client(server: LiveServer, tenant: Tenant) -> SinchClient:
    client = SinchClient(
        project_id=tenant.project_id,
        key_id=tenant.key_id,
        key_secret=tenant.key_secret,
        conversation_region="eu",
    )
    client.configuration.auth_origin = server.url
    client.configuration.conversation_origin = server.url + "/conversation"
    return client


def sdk_session(client: SinchClient) -> dict[str, Any]:
    """Everything the test checks, done the way an application would with the SDK."""
    token = client.authentication.get_auth_token()
    conversation = client.conversation
    app = conversation.apps.create(
        channel_credentials={"SMS": {"claimed_identity": "spid", "token": "tok"}},
        display_name="SDK app",
    )
    listed_apps = list(conversation.apps.list().iterator())
    created = [
        conversation.contacts.create(
            channel_identities=[{"channel": "SMS", "identity": f"+4670000000{n}"}],
            language="EN_US",
            display_name=f"Contact {n}",
        )
        for n in range(3)
    ]
    fetched = conversation.contacts.get(created[0].id)
    # page_size=1 makes the SDK follow next_page_token twice.
    listed_contacts = list(conversation.contacts.list(page_size=1).iterator())
    return {"token": token, "app": app, "apps": listed_apps, "contacts": created,
            "fetched": fetched, "listed": listed_contacts}  # fmt: skip


async def test_sdk_creates_and_lists_apps_and_contacts(settings):
    tenant = await make_tenant(settings)
    with LiveServer(settings) as server:
        result = await asyncio.to_thread(sdk_session, sdk_client(server, tenant))
    assert result["token"].access_token
    app = result["app"]
    assert len(app.id) == 26 and app.display_name == "SDK app"
    assert app.channel_credentials.sms.claimed_identity == "spid"
    assert app.id in {a.id for a in result["apps"]}
    assert tenant.app_id in {a.id for a in result["apps"]}
    first = result["contacts"][0]
    assert first.display_name == "Contact 0" and first.language == "EN_US"
    assert result["fetched"].id == first.id
    assert result["fetched"].channel_identities[0].identity == "+46700000000"
    assert [c.id for c in result["listed"]] == sorted(c.id for c in result["contacts"])


def send_one_batch(server: LiveServer, project_id: str, token: str, app_id: str) -> str:
    """The SDK has no Batch API client, so the batch is sent over plain HTTP."""
    body = {"app_id": app_id, "message": {"text_message": {"text": "Hi ${name}"}},
            "recipient_and_params": [{"recipient": {"contact_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"},
                                      "parameters": {"name": "Ann"}}]}  # fmt: skip
    reply = httpx.post(f"{server.url}/v1/projects/{project_id}/messages", json=body,
                       headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert reply.status_code == 200, reply.text
    return str(reply.json()["batch_id"])


def sdk_changes(client: SinchClient, server: LiveServer, tenant: Tenant) -> dict[str, Any]:
    conversation = client.conversation
    app = conversation.apps.create(
        channel_credentials={"SMS": {"claimed_identity": "a", "token": "b"}}, display_name="Old"
    )
    renamed = conversation.apps.update(app.id, display_name="New")
    conversation.apps.delete(app.id)
    remaining = {a.id for a in conversation.apps.list().iterator()}
    contact = conversation.contacts.create(
        channel_identities=[{"channel": "SMS", "identity": "+1"}], language="EN_US",
        display_name="Ann", email="ann@example.com",
    )  # fmt: skip
    changed = conversation.contacts.update(contact.id, display_name="Bob", email=None)
    conversation.contacts.delete(contact.id)
    after_delete = list(conversation.contacts.list().iterator())
    token = client.authentication.get_auth_token().access_token
    batch_id = send_one_batch(server, tenant.project_id, token, tenant.app_id)
    [message] = list(conversation.messages.list(app_id=tenant.app_id).iterator())
    fetched = conversation.messages.get(message.id)
    return {"app": app, "renamed": renamed, "remaining": remaining, "changed": changed,
            "after_delete": after_delete, "batch_id": batch_id, "message": fetched}  # fmt: skip


async def test_sdk_updates_deletes_and_reads_messages(settings):
    tenant = await make_tenant(settings)
    with LiveServer(settings) as server:
        result = await asyncio.to_thread(sdk_changes, sdk_client(server, tenant), server, tenant)
    assert result["renamed"].display_name == "New"
    assert result["app"].id not in result["remaining"]
    changed = result["changed"]
    assert changed.display_name == "Bob" and changed.email == ""
    assert result["after_delete"] == []
    message = result["message"]
    assert message.app_message.text_message.text == "Hi Ann"
    assert message.contact_id == "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    assert message.batch_id == result["batch_id"]
