"""POST/DELETE /contacts and POST /consents: stored as engine jobs, bad input writes nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from convbatch.db.tables import batch_items, batches
from tests.api.test_batches_send import count_rows


def contact(i: int) -> dict:
    return {"channel_identities": [{"channel": "SMS", "identity": f"+4670000{i:04d}"}],
            "language": "EN_US"}  # fmt: skip


async def job_items(api, batch_id: str) -> list:
    async with api.db.read() as conn:
        query = select(batch_items).where(batch_items.c.batch_id == batch_id)
        return (await conn.execute(query.order_by(batch_items.c.idx))).all()


async def job_row(api, batch_id: str):
    async with api.db.read() as conn:
        return (await conn.execute(select(batches).where(batches.c.id == batch_id))).one()


async def test_create_contacts_is_stored_as_a_job(api):
    body = {"contacts": [contact(i) for i in range(3)]}
    body["contacts"][1].update(display_name="Jane", channel_priority=["RCS", "SMS"], metadata="vip")
    reply = await api.post("/contacts", body)
    assert reply.status_code == 200, reply.text
    batch_id = reply.json()["batch_id"]
    row = await job_row(api, batch_id)
    assert (row.batch_type, row.operation, row.status, row.total) == (
        "CONTACTS",
        "CREATE",
        "READY",
        3,
    )
    items = await job_items(api, batch_id)
    assert json.loads(items[1].payload)["display_name"] == "Jane"
    assert [i.state for i in items] == ["QUEUED"] * 3


async def test_delete_contacts_is_stored_as_a_job(api):
    ids = ["01EQBDK8771J6A1FV8MQPE1XAR", "01EQBECE7Z4XP21359SBKS1526"]
    reply = await api.delete("/contacts", {"contact_ids": ids})
    assert reply.status_code == 200
    items = await job_items(api, reply.json()["batch_id"])
    assert [json.loads(i.payload) for i in items] == ids


async def test_insert_consents_defaults_to_opt_out_all(api):
    body = {"app_id": api.tenant.app_id, "consent_records": [
        {"identification": "+46700000001"},
        {"identification": "+46700000002", "consent_type": "OPT_OUT_MARKETING"},
    ]}  # fmt: skip
    reply = await api.post("/consents", body)
    assert reply.status_code == 200
    batch_id = reply.json()["batch_id"]
    row = await job_row(api, batch_id)
    assert (row.batch_type, row.app_id) == ("CONSENTS", api.tenant.app_id)
    payloads = [json.loads(i.payload) for i in await job_items(api, batch_id)]
    assert [p["consent_type"] for p in payloads] == ["OPT_OUT_ALL", "OPT_OUT_MARKETING"]


BAD = {
    "1001 contacts": (
        "POST", "/contacts", lambda app: {"contacts": [contact(1)] * 1001}, "contacts",
    ),
    "no contacts": ("POST", "/contacts", lambda app: {"contacts": []}, "contacts"),
    "contact without identities": (
        "POST", "/contacts", lambda app: {"contacts": [{"language": "EN_US"}]},
        "contacts[0].channel_identities",
    ),
    "contact with bad language": (
        "POST", "/contacts", lambda app: {"contacts": [{**contact(1), "language": "KLINGON"}]},
        "contacts[0].language",
    ),
    "1001 contact ids": (
        "DELETE", "/contacts", lambda app: {"contact_ids": ["x"] * 1001}, "contact_ids",
    ),
    "unknown consent type": (
        "POST", "/consents",
        lambda app: {"app_id": app, "consent_records": [
            {"identification": "+1", "consent_type": "OPT_IN_EVERYTHING"}]},
        "consent_records[0].consent_type",
    ),
    "1001 consents": (
        "POST", "/consents",
        lambda app: {"app_id": app, "consent_records": [{"identification": "+1"}] * 1001},
        "consent_records",
    ),
    "consents for unknown app": (
        "POST", "/consents",
        lambda app: {"app_id": "01EQBDK8771J6A1FV8MQPE1XAR",
                     "consent_records": [{"identification": "+1"}]},
        "app_id",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD))
async def test_bad_job_requests_are_rejected(api, case):
    method, path, make, field = BAD[case]
    reply = await api.client.request(
        method, api.url(path), json=make(api.tenant.app_id), headers=api.auth
    )
    assert reply.status_code == 400, reply.text
    assert field in reply.json()["error"]["message"]
    assert await count_rows(api, batches) == 0
    assert await count_rows(api, batch_items) == 0
