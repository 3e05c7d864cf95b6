"""Finding: a signed relay receipt was accepted whatever the age of its signature timestamp,
so a captured receipt could be replayed at any later time."""

from __future__ import annotations

import time

from convbatch.callbacks.signing import signature_headers
from tests.api.conversation_client import conv

SECRET = "relay-callback-secret"


async def test_signed_receipts_older_or_newer_than_five_minutes_are_refused(api):
    settings = {"base_url": "https://upstream.example", "auth_url": "https://auth.example",
                "project_id": "p", "key_id": "k", "key_secret": "s", "app_id": "a",
                "callback_secret": SECRET}  # fmt: skip
    body = {"display_name": "relay", "channel_credentials": [
        {"channel": "SMS", "driver": "conversation_api", "driver_settings": settings}]}  # fmt: skip
    app_id = (await conv(api).post("/apps", body)).json()["id"]
    url = api.conv_url(f"/apps/{app_id}/relay-receipts")
    now = int(time.time())
    for signed_at, expected in ((now - 600, 401), (now + 600, 401), (now - 60, 200), (now, 200)):
        headers = {"Content-Type": "application/json",
                   **signature_headers(SECRET, b"{}", signed_at)}  # fmt: skip
        reply = await api.client.post(url, content=b"{}", headers=headers)
        assert reply.status_code == expected, (signed_at - now, reply.text)
