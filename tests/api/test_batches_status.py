"""Status reads, listing by metadata and cancellation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from convbatch.db.tables import cancel_requests, messages
from tests.api.builders import batch


def later(hours: float = 2) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


async def scheduled(api, **meta: str) -> str:
    reply = await api.post(
        "/messages", batch(api.tenant.app_id, 4, send_after=later(), batch_metadata=meta)
    )
    assert reply.status_code == 200, reply.text
    return str(reply.json()["batch_id"])


async def message_states(api, batch_id: str) -> set[str]:
    async with api.db.read() as conn:
        query = select(messages.c.state).where(messages.c.batch_id == batch_id)
        return {row.state for row in await conn.execute(query)}


async def test_unknown_and_other_projects_batches_are_404(api):
    batch_id = await scheduled(api)
    other, token = await api.new_tenant()
    mine = await api.get("/messages/01EQBDK8771J6A1FV8MQPE1XAR")
    theirs = await api.client.get(
        f"/v1/projects/{other.project_id}/messages/{batch_id}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert mine.status_code == theirs.status_code == 404
    assert mine.json()["error"]["status"] == theirs.json()["error"]["status"] == "NOT_FOUND"
    unknown_id = "01EQBDK8771J6A1FV8MQPE1XAR"
    assert (
        theirs.json()["error"]["message"].replace(batch_id, unknown_id)
        == (mine.json()["error"]["message"])
    )


async def test_list_by_metadata_returns_matching_batches_in_order(api):
    first = await scheduled(api, campaign="x", team="a")
    second = await scheduled(api, campaign="x")
    await scheduled(api, campaign="y")
    reply = await api.get("/messages", metadataKey="campaign", metadataValue="x")
    assert reply.status_code == 200
    found = reply.json()
    assert [s["batch_id"] for s in found] == [first, second]
    assert found[0]["meta_data"] == {"campaign": "x", "team": "a"}
    assert all(s["status"] == "SCHEDULED" for s in found)
    empty = await api.get("/messages", metadataKey="campaign", metadataValue="zzz")
    assert empty.json() == []


async def test_list_by_metadata_requires_both_parameters(api):
    reply = await api.get("/messages", metadataKey="campaign")
    assert reply.status_code == 400
    assert "metadataValue" in reply.json()["error"]["message"]
    reply = await api.get("/messages")
    assert "metadataKey" in reply.json()["error"]["message"]


async def test_cancel_by_id_cancels_batch_and_its_messages(api):
    batch_id = await scheduled(api)
    reply = await api.delete("/messages", {"batch_id": batch_id})
    assert reply.status_code == 200 and reply.json() == {}
    status = (await api.get(f"/messages/{batch_id}")).json()
    assert status["status"] == "CANCELLED"
    assert status["counts"]["cancelled"] == 4 and status["counts"]["queued"] == 0
    assert await message_states(api, batch_id) == {"CANCELLED"}


async def test_cancel_by_ids_and_by_metadata(api):
    a, b = await scheduled(api), await scheduled(api)
    c, d = await scheduled(api, wave="1"), await scheduled(api, wave="1")
    keep = await scheduled(api, wave="2")
    assert (await api.delete("/messages", {"batch_ids": [a, b]})).status_code == 200
    reply = await api.delete("/messages", {"metadata_key": "wave", "metadata_value": "1"})
    assert reply.status_code == 200
    for batch_id in (a, b, c, d):
        assert (await api.get(f"/messages/{batch_id}")).json()["status"] == "CANCELLED"
    assert (await api.get(f"/messages/{keep}")).json()["status"] == "SCHEDULED"


async def test_cancel_accepts_camel_case_metadata_names(api):
    batch_id = await scheduled(api, wave="3")
    await api.delete("/messages", {"metadataKey": "wave", "metadataValue": "3"})
    assert (await api.get(f"/messages/{batch_id}")).json()["status"] == "CANCELLED"


async def test_immediate_unknown_and_foreign_batches_are_not_cancelled_but_answer_200(api):
    immediate = (await api.post("/messages", batch(api.tenant.app_id))).json()["batch_id"]
    other, token = await api.new_tenant()
    reply = await api.delete("/messages", {"batch_ids": [immediate, "01EQBDK8771J6A1FV8MQPE1XAR"]})
    assert reply.status_code == 200
    assert (await api.get(f"/messages/{immediate}")).json()["status"] == "READY"
    assert await message_states(api, immediate) == {"QUEUED"}
    # Another project cannot cancel our scheduled batch, even knowing its id.
    mine = await scheduled(api)
    reply = await api.client.request(
        "DELETE", f"/v1/projects/{other.project_id}/messages", json={"batch_id": mine},
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert reply.status_code == 200
    assert (await api.get(f"/messages/{mine}")).json()["status"] == "SCHEDULED"


async def test_cancel_is_recorded(api):
    batch_id = await scheduled(api)
    await api.delete("/messages", {"batch_id": batch_id})
    async with api.db.read() as conn:
        rows = (await conn.execute(select(cancel_requests))).all()
    assert len(rows) == 1 and rows[0].cancelled == 1 and batch_id in rows[0].request


async def test_cancel_accepts_camel_case_ids(api):
    one, two, three = await scheduled(api), await scheduled(api), await scheduled(api)
    assert (await api.delete("/messages", {"batchId": one})).json() == {}
    reply = await api.delete("/messages", {"batchIds": [two, three]})
    assert reply.status_code == 200 and reply.json() == {}
    for batch_id in (one, two, three):
        assert (await api.get(f"/messages/{batch_id}")).json()["status"] == "CANCELLED"


async def test_cancel_that_names_nothing_answers_200_and_cancels_nothing(api):
    batch_id = await scheduled(api, wave="9")
    bodies = ({}, {"batch_id": 5}, {"metadata_key": "wave"}, {"nonsense": "x"}, [], "text",
              {"batch_ids": [7, None]}, {"metadataValue": "9"})  # fmt: skip
    for body in bodies:
        reply = await api.delete("/messages", body)
        assert reply.status_code == 200 and reply.json() == {}, body
    assert (await api.get(f"/messages/{batch_id}")).json()["status"] == "SCHEDULED"


async def test_cancel_refuses_a_body_that_is_not_json(api):
    for content in (b"{oops", b"", b"batch_id=1"):
        reply = await api.client.request(
            "DELETE", api.url("/messages"), content=content,
            headers={**api.auth, "Content-Type": "application/json"},
        )  # fmt: skip
        assert reply.status_code == 400, content
        assert reply.json()["error"]["status"] == "INVALID_ARGUMENT"
