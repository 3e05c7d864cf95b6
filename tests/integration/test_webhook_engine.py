"""The real engine writes webhook events; the outbox sender delivers them, signed and in order,
to a receiver that was down while they were written."""

from __future__ import annotations

import asyncio
import json

from sinch import SinchClient
from sqlalchemy import select

from convbatch.callbacks.policy import WebhookSettings
from convbatch.callbacks.sender import OutboxSender
from convbatch.clock import SystemClock
from convbatch.db.tables import webhook_deliveries
from tests.api.builders import batch, sms
from tests.integration.helpers import FAST, wait_for_status, wait_until
from tests.integration.webhook_kit import receiver
from tests.support import free_port, running_api


async def test_engine_events_reach_a_receiver_that_was_down_in_order(settings):
    """The real engine writes the events; the receiver starts only after they are all written."""
    port = free_port()
    async with running_api(settings.with_(**FAST), engine=True) as api:
        hook = {"app_id": api.tenant.app_id, "target": f"http://127.0.0.1:{port}/e2e",
                "target_type": "HTTP", "secret": "e2e-secret",
                "triggers": ["MESSAGE_DELIVERY", "BATCH_STATUS_UPDATE"]}  # fmt: skip
        reply = await api.client.post(api.conv_url("/webhooks"), json=hook, headers=api.auth)
        assert reply.status_code == 200, reply.text
        await asyncio.sleep(1.2)  # the engine's trigger cache notices the new webhook
        people = [{"recipient": sms(f"+46701{i:02d}0000")} for i in range(6)]
        body = batch(api.tenant.app_id, recipient_and_params=people,
                     message={"text_message": {"text": "hi"}})  # fmt: skip
        batch_id = (await api.post("/messages", body)).json()["batch_id"]
        await wait_for_status(api, batch_id, "PROCESSED")

        async def all_read() -> bool:
            return (await api.get(f"/messages/{batch_id}")).json()["counts"]["read"] == 6

        await wait_until(all_read)
        tuning = WebhookSettings(backoff_base_s=0.05, backoff_cap_s=0.2)
        sender = OutboxSender(api.db, SystemClock(), tuning)
        try:

            async def refused() -> bool:  # the receiver is still down: attempts fail
                await sender.run_once()
                async with api.db.read() as conn:
                    errors = await conn.execute(select(webhook_deliveries.c.last_error))
                    return any("could not connect" in (e or "") for (e,) in errors)

            await wait_until(refused, every=0.02)
            async with receiver(port=port) as rx:

                async def settled() -> bool:
                    await sender.run_once()
                    async with api.db.read() as conn:
                        rows = (await conn.execute(select(webhook_deliveries.c.state))).all()
                    return bool(rows) and {r.state for r in rows} == {"DELIVERED"} and len(
                        rx.calls) == len(rows)  # fmt: skip

                await wait_until(settled, every=0.02)
        finally:
            await sender.aclose()
        sdk = SinchClient().conversation.sinch_events("e2e-secret")
        receipts: dict[str, list[str]] = {}
        batch_states = []
        for call in rx.calls:
            assert sdk.validate_authentication_header(call.headers, call.body)
            event = sdk.parse_event(call.body, call.headers)
            report = getattr(event, "message_delivery_report", None)
            if report is not None:
                receipts.setdefault(report.message_id, []).append(report.status)
            else:
                note = json.loads(call.body)["batch_status_update_notification"]
                batch_states.append(note["batch_status"])
        assert len(receipts) == 6
        assert set(map(tuple, receipts.values())) == {("QUEUED_ON_CHANNEL", "DELIVERED", "READ")}
        assert batch_states == ["BATCH_STATUS_READY", "BATCH_STATUS_PROCESSED"]
