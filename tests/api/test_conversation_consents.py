"""Conversation API consent reads, and the insert used by the engine's consents jobs."""

from __future__ import annotations

from datetime import UTC, datetime

from convbatch.clock import parse_rfc3339
from convbatch.consents.service import insert_consent, opted_out_lists
from tests.api.conversation_client import assert_not_found, bad_field, conv, other_project

NOW_MS = int(datetime(2026, 3, 1, 12, 0, tzinfo=UTC).timestamp() * 1000)


async def opt_out(api, identity: str, list_type: str = "OPT_OUT_ALL", app_id=None) -> bool:
    async with api.db.transaction() as conn:
        return await insert_consent(
            conn, api.project, app_id or api.tenant.app_id, identity, list_type, NOW_MS
        )


async def test_insert_is_idempotent_and_audited_once(api):
    assert await opt_out(api, "+461") is True
    assert await opt_out(api, "+461") is False
    assert await opt_out(api, "+461", "OPT_OUT_MARKETING") is True
    async with api.db.read() as conn:
        assert await opted_out_lists(conn, api.tenant.app_id, "+461") == {
            "OPT_OUT_ALL", "OPT_OUT_MARKETING"
        }  # fmt: skip
        assert await opted_out_lists(conn, api.tenant.app_id, "+462") == set()
    reply = await conv(api).get(f"/apps/{api.tenant.app_id}/consents/identities/+461")
    assert reply.status_code == 200, reply.text
    # The SDKs' AuditRecordsList: {identity: {identity}, audit_records}.
    assert reply.json()["identity"] == {"identity": "+461"}
    records = reply.json()["audit_records"]
    assert [r["list_type"] for r in records] == ["OPT_OUT_ALL", "OPT_OUT_MARKETING"]
    first = records[0]
    assert first["origin"] == "ORIGIN_API" and first["operation"] == "OPERATION_INSERT"
    assert first["project_id"] == api.project and first["app_id"] == api.tenant.app_id
    # The identity's + may arrive encoded in the path, or as a space.
    for spelled in ("%2B461", "%20461"):
        again = await conv(api).get(f"/apps/{api.tenant.app_id}/consents/identities/{spelled}")
        assert again.json()["audit_records"] == records
    assert parse_rfc3339(first["datetime"]) == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def test_list_pages_through_identities(api):
    for n in range(5):
        await opt_out(api, f"+46{n}", "OPT_OUT_NOTIFICATION")
    await opt_out(api, "+999", "OPT_OUT_ALL")
    path = f"/apps/{api.tenant.app_id}/consents/OPT_OUT_NOTIFICATION"
    first = (await conv(api).get(path, page_size=3)).json()
    assert first["identities"] == [{"identity": f"+46{n}"} for n in range(3)]
    assert first["total_size"] == 5
    second = (await conv(api).get(path, page_size=3, page_token=first["next_page_token"])).json()
    assert second == {"identities": [{"identity": "+463"}, {"identity": "+464"}],
                      "next_page_token": "", "total_size": 5}  # fmt: skip


async def test_bad_list_type_and_foreign_or_unknown_app(api):
    app_id = api.tenant.app_id
    assert bad_field(await conv(api).get(f"/apps/{app_id}/consents/OPT_IN")) == "list_type"
    other = await other_project(api)
    await opt_out(api, "+461")
    assert_not_found(await other.get(f"/apps/{app_id}/consents/OPT_OUT_ALL"))
    assert_not_found(await other.get(f"/apps/{app_id}/consents/identities/+461"))
    unknown = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    assert_not_found(await conv(api).get(f"/apps/{unknown}/consents/OPT_OUT_ALL"))


async def test_lists_are_per_app_and_go_with_the_app(api):
    client = conv(api)
    second = (await client.post("/apps", {"display_name": "Second"})).json()["id"]
    await opt_out(api, "+461", app_id=second)
    first_list = (await client.get(f"/apps/{api.tenant.app_id}/consents/OPT_OUT_ALL")).json()
    assert first_list["identities"] == []
    assert (await client.get(f"/apps/{second}/consents/OPT_OUT_ALL")).json()["identities"] == [
        {"identity": "+461"}
    ]
    await client.delete(f"/apps/{second}")
    async with api.db.read() as conn:
        assert await opted_out_lists(conn, second, "+461") == set()
