"""The embedded engine sends every recipient once and keeps batch status and counts true."""

from __future__ import annotations

import json

from sqlalchemy import select

from convbatch.db.tables import messages
from tests.api.builders import batch, sms
from tests.integration.helpers import FAST, inbox, wait_for_status, wait_until
from tests.support import running_api


def settle(counts: dict) -> bool:
    return counts["queued"] == 0 and counts["sent"] == 0


async def test_batch_is_sent_once_per_recipient_and_processed(settings):
    async with running_api(settings.with_(**FAST), engine=True) as api:
        reply = await api.post("/messages", batch(api.tenant.app_id, 300))
        batch_id = reply.json()["batch_id"]
        status = await wait_for_status(api, batch_id, "PROCESSED")
        assert status["counts"]["total"] == 300
        received = await inbox(api)
        assert len(received) == 300
        assert {r.deliveries for r in received} == {1}
        bodies = {r.identity: json.loads(r.body) for r in received}
        assert bodies["+15550000079"] == {"text_message": {"text": "Hello n7"}}

        async def all_delivered() -> bool:
            counts = (await api.get(f"/messages/{batch_id}")).json()["counts"]
            return counts["delivered"] + counts["read"] == 300

        await wait_until(all_delivered)


async def test_identity_classes_and_failures(settings):
    async with running_api(settings.with_(**FAST), engine=True) as api:
        people = [
            {"recipient": sms("+4670000000"), "parameters": {"name": "read"}},
            {"recipient": sms("+4670000101"), "parameters": {"name": "unreachable"}},
            {"recipient": sms("+4670000103"), "parameters": {"name": "retried"}},
            {"recipient": sms("+4670000104"), "parameters": {"name": "stuck"}},
            {"recipient": sms("+4670000105")},  # no name: fails alone with BAD_REQUEST
            {"recipient": {"contact_id": "01EQBDK8771J6A1FV8MQPE1XAR"},
             "parameters": {"name": "x"}},
            {"recipient": {"identified_by": {"channel_identities": [
                {"channel": "WHATSAPP", "identity": "+4670000102"},
                {"channel": "SMS", "identity": "+4670000102"}]}}, "parameters": {"name": "switch"}},
        ]  # fmt: skip
        body = batch(api.tenant.app_id, recipient_and_params=people)
        batch_id = (await api.post("/messages", body)).json()["batch_id"]
        await wait_for_status(api, batch_id, "PROCESSED")

        async def settled() -> bool:
            counts = (await api.get(f"/messages/{batch_id}")).json()["counts"]
            return counts["read"] == 1 and counts["failed"] == 3 and counts["delivered"] == 2

        await wait_until(settled)
        counts = (await api.get(f"/messages/{batch_id}")).json()["counts"]
        assert counts == {"total": 7, "queued": 0, "sent": 1, "delivered": 2, "read": 1,
                          "failed": 3, "cancelled": 0, "expired": 0}  # fmt: skip
        async with api.db.read() as conn:
            rows = {r.idx: r for r in await conn.execute(
                select(messages).where(messages.c.batch_id == batch_id))}  # fmt: skip
        assert rows[1].reason_code == "RECIPIENT_NOT_REACHABLE"
        assert rows[2].attempts == 3 and rows[2].state == "SENT"
        assert rows[3].delivery_status == "QUEUED_ON_CHANNEL"
        assert rows[4].reason_code == "BAD_REQUEST" and "name" in rows[4].reason_description
        assert rows[5].reason_code == "CONTACT_NOT_FOUND"
        assert rows[6].channel == "SMS" and rows[6].state == "SENT"
