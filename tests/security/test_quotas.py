"""Finding: a project could create any number of apps (so the 5-webhooks-per-app cap limited
nothing) and queue any number of messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from convbatch import limits
from tests.api.conversation_client import conv
from tests.security.kit import batch


def exhausted(reply) -> bool:
    return reply.status_code == 429 and reply.json()["error"]["status"] == "RESOURCE_EXHAUSTED"


async def test_apps_webhooks_and_queued_messages_have_project_quotas(api, monkeypatch):
    monkeypatch.setattr(limits, "MAX_APPS_PER_PROJECT", 2)
    monkeypatch.setattr(limits, "MAX_WEBHOOKS_PER_PROJECT", 1)
    monkeypatch.setattr(limits, "MAX_QUEUED_MESSAGES_PER_PROJECT", 3)
    second = await conv(api).post("/apps", {"display_name": "two"})
    assert second.status_code == 200, second.text  # the tenant's sandbox app is the first
    reply = await conv(api).post("/apps", {"display_name": "three"})
    assert exhausted(reply) and "CONVBATCH_MAX_APPS_PER_PROJECT" in reply.text

    hook = {"app_id": api.tenant.app_id, "target": "https://example.com/h",
            "triggers": ["MESSAGE_DELIVERY"]}  # fmt: skip
    assert (await conv(api).post("/webhooks", hook)).status_code == 200
    hook["app_id"] = second.json()["id"]
    assert exhausted(await conv(api).post("/webhooks", hook))

    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    body = batch(api.tenant.app_id, send_after=later)
    body["recipient_and_params"] *= 2
    assert (await api.post("/messages", body)).status_code == 200
    reply = await api.post("/messages", body)
    assert exhausted(reply) and reply.headers["Retry-After"] == "5"
    other, token = await api.new_tenant()
    theirs = batch(other.app_id, send_after=later)
    reply = await api.client.post(f"/v1/projects/{other.project_id}/messages", json=theirs,
                                  headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert reply.status_code == 200, reply.text
