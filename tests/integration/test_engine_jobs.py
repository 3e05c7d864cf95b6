"""Contacts and consents batches run by the engine: each item applied exactly once, failures
isolated per item, counters, PROCESSED status, callbacks, and consents enforced at send time."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import func, select

from convbatch.callbacks.outbox import Outbox
from convbatch.clock import SystemClock
from convbatch.db.tables import batch_items, consent_audit, consents, messages, outbox_events
from convbatch.engine.job_items import ItemContext, create_item
from convbatch.engine.jobs import claim_items, run_jobs_once
from tests.api.builders import batch, sms
from tests.api.conversation_client import conv
from tests.integration.helpers import FAST, inbox, wait_for_status
from tests.support import running_api

CLOCK = SystemClock()
REPORTING = ["BATCH_STATUS_UPDATE", "BATCH_PROCESSING_REPORT"]


def contact(i: int, **fields) -> dict:
    return {"channel_identities": [{"channel": "SMS", "identity": f"+4671{i:07d}"}],
            "language": "EN_US", **fields}  # fmt: skip


async def subscribe(api, *triggers: str, app_id: str | None = None) -> None:
    body = {"app_id": app_id or api.tenant.app_id, "target": "https://example.com/hook",
            "triggers": list(triggers)}  # fmt: skip
    reply = await conv(api).post("/webhooks", body)
    assert reply.status_code == 200, reply.text


async def drain(api, limit: int = 200) -> int:
    total = 0
    while count := await run_jobs_once(api.db, CLOCK, limit=limit):
        total += count
    return total


async def items(api, batch_id: str) -> list:
    async with api.db.read() as conn:
        query = select(batch_items).where(batch_items.c.batch_id == batch_id)
        return list((await conn.execute(query.order_by(batch_items.c.idx))).all())


async def events(api, trigger: str) -> list[tuple[str, dict]]:
    """(outbox app_id, payload) of each event of ``trigger``, in write order."""
    async with api.db.read() as conn:
        query = select(outbox_events).where(outbox_events.c.trigger == trigger)
        rows = await conn.execute(query.order_by(outbox_events.c.id))
        return [(r.app_id, json.loads(r.payload)) for r in rows]


async def count(api, table) -> int:
    async with api.db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def status(api, batch_id: str) -> dict:
    return dict((await api.get(f"/messages/{batch_id}")).json())


async def test_create_contacts_fails_the_bad_item_alone(api):
    await subscribe(api, "CONTACT_CREATE", *REPORTING)
    bad = {"channel_identities": [{"channel": "MESSENGER", "identity": "psid-1"}],
           "language": "EN_US"}  # app-scoped channel without app_id  # fmt: skip
    body = {"contacts": [contact(1, display_name="Ann"), bad, contact(3, email="c@example.com")]}
    batch_id = (await api.post("/contacts", body)).json()["batch_id"]
    assert (await status(api, batch_id))["status"] == "READY"
    assert await drain(api) == 3
    done = await status(api, batch_id)
    assert done["status"] == "PROCESSED"
    expected = {"total": 3, "queued": 0, "sent": 2, "delivered": 0, "read": 0, "failed": 1}
    assert done["counts"] == {**expected, "cancelled": 0, "expired": 0}
    stored = await items(api, batch_id)
    assert [i.state for i in stored] == ["DONE", "FAILED", "DONE"]
    reason = json.loads(stored[1].result)["reason"]
    assert reason["code"] == "BAD_REQUEST" and "app_id" in reason["description"]
    listed = (await conv(api).get("/contacts")).json()
    assert listed["total_size"] == 2
    by_id = {c["id"]: c for c in listed["contacts"]}
    assert {c["display_name"] for c in by_id.values()} == {"Ann", "Unknown"}
    assert {json.loads(stored[i].result)["contact_id"] for i in (0, 2)} == set(by_id)
    created = await events(api, "CONTACT_CREATE")
    assert [app for app, _ in created] == ["", ""]
    assert all(p["app_id"] == "" and p["project_id"] == api.project for _, p in created)
    notes = [p["contact_create_notification"]["contact"] for _, p in created]
    assert {n["id"] for n in notes} == set(by_id)
    assert {n["channel_identities"][0]["identity"] for n in notes} == {"+46710000001",
                                                                     "+46710000003"}  # fmt: skip
    [(_, update)] = await events(api, "BATCH_STATUS_UPDATE")
    note = update["batch_status_update_notification"]
    assert (note["batch_id"], note["batch_status"], note["batch_type"]) == (
        batch_id, "BATCH_STATUS_PROCESSED", "BATCH_TYPE_CONTACTS")  # fmt: skip
    [(_, report)] = await events(api, "BATCH_PROCESSING_REPORT")
    failed = report["batch_processing_report_notification"]["failed_messages"]
    assert [(f["message_index"], f["reason"]["code"]) for f in failed] == [(1, "BAD_REQUEST")]


async def test_contact_events_only_when_a_webhook_subscribes(api):
    await subscribe(api, "MESSAGE_DELIVERY")
    batch_id = (await api.post("/contacts", {"contacts": [contact(1), contact(2)]})).json()
    assert await drain(api) == 2
    assert (await status(api, batch_id["batch_id"]))["counts"]["sent"] == 2
    assert (await conv(api).get("/contacts")).json()["total_size"] == 2
    assert await count(api, outbox_events) == 0


async def test_delete_contacts_with_an_unknown_id(api):
    await subscribe(api, "CONTACT_DELETE")
    ids = [(await conv(api).post("/contacts", contact(i))).json()["id"] for i in range(3)]
    unknown = "01EQBDK8771J6A1FV8MQPE1XAR"
    reply = await api.delete("/contacts", {"contact_ids": [ids[0], unknown, ids[2]]})
    batch_id = reply.json()["batch_id"]
    assert await drain(api) == 3
    done = await status(api, batch_id)
    assert done["status"] == "PROCESSED"
    assert (done["counts"]["sent"], done["counts"]["failed"]) == (2, 1)
    assert json.loads((await items(api, batch_id))[1].result)["reason"]["code"] == (
        "CONTACT_NOT_FOUND"
    )
    left = (await conv(api).get("/contacts")).json()["contacts"]
    assert [c["id"] for c in left] == [ids[1]]
    deleted = await events(api, "CONTACT_DELETE")
    notes = [p["contact_delete_notification"]["contact"] for _, p in deleted]
    assert sorted(n["id"] for n in notes) == sorted([ids[0], ids[2]])


async def test_consents_insert_is_idempotent(api):
    await subscribe(api, "OPT_OUT", "BATCH_STATUS_UPDATE")
    app_id = api.tenant.app_id
    records = [{"identification": "+46720000001"},
               {"identification": "+46720000001", "consent_type": "OPT_OUT_ALL"},
               {"identification": "+46720000002", "consent_type": "OPT_OUT_MARKETING"}]  # fmt: skip
    first = (await api.post("/consents", {"app_id": app_id, "consent_records": records})).json()
    again = {"app_id": app_id, "consent_records": records[:1]}
    second = (await api.post("/consents", again)).json()
    assert await drain(api) == 4
    for batch_id, sent in ((first["batch_id"], 3), (second["batch_id"], 1)):
        done = await status(api, batch_id)
        assert done["status"] == "PROCESSED" and done["counts"]["sent"] == sent
    assert await count(api, consents) == 2 and await count(api, consent_audit) == 2
    path = f"/apps/{app_id}/consents/identities/+46720000001"
    audit = (await conv(api).get(path)).json()["audit_records"]
    assert [(r["origin"], r["list_type"]) for r in audit] == [("ORIGIN_API", "OPT_OUT_ALL")]
    results = [json.loads(i.result) for i in await items(api, first["batch_id"])]
    assert results == [{"inserted": True}, {"inserted": False}, {"inserted": True}]
    opt_outs = [(app, p["opt_out_notification"]) for app, p in await events(api, "OPT_OUT")]
    assert [(app, n["identity"], n["list_type"], n["status"], n["request_id"])
            for app, n in opt_outs] == [
        (app_id, "+46720000001", "OPT_OUT_ALL", "OPT_OUT_SUCCEEDED", first["batch_id"]),
        (app_id, "+46720000002", "OPT_OUT_MARKETING", "OPT_OUT_SUCCEEDED", first["batch_id"]),
    ]  # fmt: skip
    updates = [p["batch_status_update_notification"] for _, p in await events(
        api, "BATCH_STATUS_UPDATE")]  # fmt: skip
    assert {u["batch_type"] for u in updates} == {"BATCH_TYPE_CONSENTS"}
    assert len(updates) == 2


async def test_consents_for_a_deleted_app_fail(api):
    second = (await conv(api).post("/apps", {"display_name": "Gone"})).json()["id"]
    body = {"app_id": second, "consent_records": [{"identification": "+46720000009"}]}
    batch_id = (await api.post("/consents", body)).json()["batch_id"]
    await conv(api).delete(f"/apps/{second}")
    assert await drain(api) == 1
    assert (await status(api, batch_id))["counts"]["failed"] == 1
    assert json.loads((await items(api, batch_id))[0].result)["reason"]["code"] == "UNKNOWN_APP"
    assert await count(api, consents) == 0


async def test_concurrent_runners_apply_each_item_once(api):
    await subscribe(api, "CONTACT_CREATE", "OPT_OUT")
    contacts_job = await api.post("/contacts", {"contacts": [contact(i) for i in range(40)]})
    # Repeated records across the batch: concurrent chunks insert the same consent rows.
    records = [
        {
            "identification": f"+4673000000{i % 6}",
            "consent_type": ("OPT_OUT_ALL", "OPT_OUT_MARKETING")[i % 2],
        }
        for i in range(30)
    ]
    body = {"app_id": api.tenant.app_id, "consent_records": records}
    consents_job = await api.post("/consents", body)
    processed = 0
    while True:
        counts = await asyncio.gather(*(run_jobs_once(api.db, CLOCK, limit=7) for _ in range(2)))
        if not any(counts):
            break
        processed += sum(counts)
    assert processed == 70
    for reply, total in ((contacts_job, 40), (consents_job, 30)):
        done = await status(api, reply.json()["batch_id"])
        assert (done["status"], done["counts"]["sent"], done["counts"]["queued"]) == (
            "PROCESSED", total, 0)  # fmt: skip
    assert (await conv(api).get("/contacts")).json()["total_size"] == 40
    created = {p["contact_create_notification"]["contact"]["id"]
               for _, p in await events(api, "CONTACT_CREATE")}  # fmt: skip
    assert len(created) == 40 and len(await events(api, "CONTACT_CREATE")) == 40
    assert await count(api, consents) == 6 and await count(api, consent_audit) == 6
    assert len(await events(api, "OPT_OUT")) == 6


async def test_a_crashed_chunk_leaves_no_effect_and_is_retried(api):
    batch_id = (await api.post("/contacts", {"contacts": [contact(i) for i in range(4)]})).json()
    with pytest.raises(RuntimeError):
        async with api.db.transaction() as conn:
            rows = await claim_items(conn, 10)
            now = CLOCK.now()
            for row in rows:
                ctx = ItemContext(now, int(now.timestamp() * 1000), Outbox(conn, now))
                assert (await create_item(conn, row, ctx)).applied
            if not api.db.is_sqlite:  # another worker skips the rows this one holds
                assert await run_jobs_once(api.db, CLOCK) == 0
            raise RuntimeError("worker died before committing")
    assert (await conv(api).get("/contacts")).json()["total_size"] == 0
    assert await drain(api) == 4
    assert (await conv(api).get("/contacts")).json()["total_size"] == 4
    assert (await status(api, batch_id["batch_id"]))["counts"]["sent"] == 4


def _people(*identities: str) -> list[dict]:
    return [{"recipient": sms(i), "parameters": {"name": i[-2:]}} for i in identities]


async def test_inserted_consents_block_sends(settings):
    opted_out, no_marketing, anyone = "+46740000019", "+46740000029", "+46740000039"
    async with running_api(settings.with_(**FAST), engine=True) as api:
        app_id = api.tenant.app_id
        records = [
            {"identification": opted_out, "consent_type": "OPT_OUT_ALL"},
            {"identification": no_marketing, "consent_type": "OPT_OUT_MARKETING"},
        ]
        job = (await api.post("/consents", {"app_id": app_id, "consent_records": records})).json()
        await drain(api)  # the engine may also run it once wired: either way it is applied once
        await wait_for_status(api, job["batch_id"], "PROCESSED")
        plain = batch(app_id, recipient_and_params=_people(opted_out, no_marketing, anyone))
        marketing = batch(app_id, recipient_and_params=_people(no_marketing, anyone),
                          message_content_type="CONTENT_MARKETING")  # fmt: skip
        plain_id = (await api.post("/messages", plain)).json()["batch_id"]
        marketing_id = (await api.post("/messages", marketing)).json()["batch_id"]
        await wait_for_status(api, plain_id, "PROCESSED")
        await wait_for_status(api, marketing_id, "PROCESSED")
        async with api.db.read() as conn:
            rows = (await conn.execute(select(messages))).all()
        outcome = {(r.batch_id, r.identity): (r.state, r.reason_code) for r in rows}
        blocked = ("FAILED", "RECIPIENT_NOT_OPTED_IN")
        assert outcome[(plain_id, opted_out)] == blocked
        assert outcome[(marketing_id, no_marketing)] == blocked
        for key in ((plain_id, no_marketing), (plain_id, anyone), (marketing_id, anyone)):
            assert outcome[key][0] == "SENT", key
        received = sorted((r.batch_id, r.identity) for r in await inbox(api))
        assert received == sorted([(plain_id, no_marketing), (plain_id, anyone),
                                   (marketing_id, anyone)])  # fmt: skip


async def test_an_item_the_database_refuses_fails_alone(api):
    # PostgreSQL text cannot hold NUL; SQLite stores it. Either way the others are created.
    nul = {"channel_identities": [{"channel": "SMS", "identity": "+4675\u00000001"}],
           "language": "EN_US"}  # fmt: skip
    body = {"contacts": [contact(1), nul, contact(3)]}
    batch_id = (await api.post("/contacts", body)).json()["batch_id"]
    assert await drain(api) == 3
    states = [i.state for i in await items(api, batch_id)]
    refused = not api.db.is_sqlite
    assert states == ["DONE", "FAILED" if refused else "DONE", "DONE"]
    total = (await conv(api).get("/contacts")).json()["total_size"]
    assert total == (2 if refused else 3)
    assert (await status(api, batch_id))["status"] == "PROCESSED"
