"""POST /messages: what is accepted, and how it is stored."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from convbatch.clock import parse_rfc3339
from convbatch.db.tables import batch_metadata, batches, messages
from tests.api.builders import batch, sms


async def count_rows(api, table) -> int:
    async with api.db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_immediate_batch_is_ready_without_send_after(api):
    reply = await api.post("/messages", batch(api.tenant.app_id, 3))
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert set(body) == {"batch_id"}
    assert len(body["batch_id"]) == 26
    status = (await api.get(f"/messages/{body['batch_id']}")).json()
    assert status["status"] == "READY"
    assert "send_after" not in status
    assert status["meta_data"] == {}
    assert status["counts"]["total"] == 3 and status["counts"]["queued"] == 3


async def test_every_recipient_becomes_one_ledger_row(api):
    body = batch(api.tenant.app_id, 1000, message_metadata={"source": "crm"})
    body["recipient_and_params"][7]["message_metadata"] = {"customer": "c-7"}
    reply = await api.post("/messages", body)
    assert reply.status_code == 200, reply.text
    batch_id = reply.json()["batch_id"]
    async with api.db.read() as conn:
        rows = (
            await conn.execute(
                select(messages.c.idx, messages.c.payload, messages.c.state, messages.c.id)
                .where(messages.c.batch_id == batch_id)
                .order_by(messages.c.idx)
            )
        ).all()
    assert [r.idx for r in rows] == list(range(1000))
    assert len({r.id for r in rows}) == 1000
    assert {r.state for r in rows} == {"QUEUED"}
    seventh = json.loads(rows[7].payload)
    assert seventh["recipient"] == sms("+15550000079")
    assert seventh["parameters"] == {"name": "n7"}
    assert seventh["message_metadata"] == {"customer": "c-7"}


async def test_scheduled_batch_rounds_up_to_five_minutes(api):
    when = (datetime.now(UTC) + timedelta(hours=2)).replace(minute=3, second=7, microsecond=0)
    reply = await api.post(
        "/messages",
        batch(api.tenant.app_id, send_after=when.isoformat().replace("+00:00", "Z"),
              batch_metadata={"campaign_id": "c1"}),
    )  # fmt: skip
    assert reply.status_code == 200, reply.text
    effective = parse_rfc3339(reply.json()["send_after"])
    assert effective == when.replace(minute=5, second=0)
    status = (await api.get(f"/messages/{reply.json()['batch_id']}")).json()
    assert status["status"] == "SCHEDULED"
    assert status["meta_data"] == {"campaign_id": "c1"}
    assert parse_rfc3339(status["send_after"]) == effective


async def test_send_after_within_a_minute_or_past_is_immediate(api):
    for delta in (timedelta(seconds=30), timedelta(days=-1)):
        when = (datetime.now(UTC) + delta).isoformat()
        reply = await api.post("/messages", batch(api.tenant.app_id, send_after=when))
        assert reply.status_code == 200, reply.text
        assert "send_after" not in reply.json()


async def test_contact_recipients_and_all_options_are_accepted(api):
    body = batch(
        api.tenant.app_id,
        1,
        processing_strategy="DEFAULT",
        batch_metadata={"k": "v"},
        message_metadata={"a": "b"},
        conversation_metadata={"c": "d"},
        callback_url="https://example.com/hook",
        channel_priority_order=["SMS", "WHATSAPP"],
        ttl="86400s",
        channel_properties={"SMS_FLASH_MESSAGE": "false"},
        correlation_id="corr-1",
        parameter_defaults={"name": "friend"},
    )
    body["recipient_and_params"].append({"recipient": {"contact_id": "01EQBDK8771J6A1FV8MQPE1XAR"}})
    reply = await api.post("/messages", body)
    assert reply.status_code == 200, reply.text


async def test_metadata_is_indexed_for_lookup(api):
    reply = await api.post(
        "/messages", batch(api.tenant.app_id, batch_metadata={"a": "1", "b": "2"})
    )
    batch_id = reply.json()["batch_id"]
    async with api.db.read() as conn:
        rows = (
            await conn.execute(select(batch_metadata).where(batch_metadata.c.batch_id == batch_id))
        ).all()
    assert sorted((r.key, r.value) for r in rows) == [("a", "1"), ("b", "2")]


async def test_all_nine_message_types_are_accepted(api):
    choice = {"text_message": {"text": "Yes ${name}"}}
    card = {"title": "T ${name}", "media_message": {"url": "https://x.test/a.png"}}
    variants = [
        {"text_message": {"text": "hi"}},
        {"media_message": {"url": "https://x.test/${name}.png"}},
        {"template_message": {"omni_template": {"template_id": "t1", "version": "1"}}},
        {"choice_message": {"text_message": {"text": "Pick"}, "choices": [choice]}},
        {"card_message": card},
        {"carousel_message": {"cards": [card, card]}},
        {"location_message": {"coordinates": {"latitude": 1.5, "longitude": 2}, "title": "Here"}},
        {"list_message": {"title": "L", "sections": [{"items": [{"choice": {"title": "a"}}]}]}},
        {"contact_info_message": {"name": {"full_name": "Ada"},
                                  "phone_numbers": [{"phone_number": "+1555"}]}},
    ]  # fmt: skip
    before = await count_rows(api, batches)
    for message in variants:
        reply = await api.post("/messages", batch(api.tenant.app_id, message=message))
        assert reply.status_code == 200, (message, reply.text)
    assert await count_rows(api, batches) == before + len(variants)
