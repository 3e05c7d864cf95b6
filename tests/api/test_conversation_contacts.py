"""Conversation API /contacts: CRUD, filters and paging, and the identity lookup table."""

from __future__ import annotations

from sqlalchemy import select

from convbatch.contacts.repository import contact_ids_by_identity
from convbatch.db.tables import contact_identities
from tests.api.conversation_client import assert_not_found, bad_field, conv, other_project


def person(identity: str = "+46700000001", **fields):
    return {"channel_identities": [{"channel": "SMS", "identity": identity}],
            "language": "EN_US", **fields}  # fmt: skip


async def identities_of(api, contact_id: str) -> set[tuple[str, str]]:
    async with api.db.read() as conn:
        rows = await conn.execute(
            select(contact_identities.c.channel, contact_identities.c.identity).where(
                contact_identities.c.contact_id == contact_id
            )
        )
        return {(r.channel, r.identity) for r in rows}


async def test_create_answers_every_field(api):
    reply = await conv(api).post("/contacts", person(external_id="crm-1"))
    assert reply.status_code == 200, reply.text
    contact = reply.json()
    assert len(contact.pop("id")) == 26
    assert contact == {
        "channel_identities": [{"channel": "SMS", "identity": "+46700000001", "app_id": ""}],
        "channel_priority": [], "display_name": "Unknown", "email": "", "external_id": "crm-1",
        "metadata": "", "language": "EN_US",
    }  # fmt: skip


async def test_get_and_foreign_or_unknown_ids(api):
    client = conv(api)
    contact = (await client.post("/contacts", person(display_name="Ann"))).json()
    assert (await client.get(f"/contacts/{contact['id']}")).json() == contact
    other = await other_project(api)
    assert_not_found(await other.get(f"/contacts/{contact['id']}"))
    assert_not_found(await other.patch(f"/contacts/{contact['id']}", {"email": "x@y"}))
    assert_not_found(await other.delete(f"/contacts/{contact['id']}"))
    assert_not_found(await client.get("/contacts/01ARZ3NDEKTSV4RRFFQ69G5FAV"))
    assert (await client.get(f"/contacts/{contact['id']}")).json() == contact


async def test_bad_input_names_the_field(api):
    client = conv(api)
    cases = {
        "channel_identities": {"language": "EN_US"},
        "language": person(language="KLINGON"),
        "metadata": person(metadata="m" * 1025),
        "channel_identities[0].channel": person() | {
            "channel_identities": [{"channel": "FAX", "identity": "1"}]},
        "channel_identities[0].app_id": person() | {
            "channel_identities": [{"channel": "MESSENGER", "identity": "psid"}]},
    }  # fmt: skip
    for field, body in cases.items():
        assert bad_field(await client.post("/contacts", body)) == field, field
    empty = person() | {"channel_identities": []}
    assert bad_field(await client.post("/contacts", empty)) == "channel_identities"
    assert bad_field(await client.post("/contacts", person(language="UNSPECIFIED"))) == "language"
    assert (await client.get("/contacts")).json()["total_size"] == 0


async def test_paging_walks_every_contact_once(api):
    client = conv(api)
    created = [(await client.post("/contacts", person(f"+4670000{i:04d}"))).json()["id"]
               for i in range(7)]  # fmt: skip
    seen, token, pages = [], None, 0
    while True:
        params = {"page_size": 3, **({"page_token": token} if token else {})}
        page = (await client.get("/contacts", **params)).json()
        assert page["total_size"] == 7
        seen += [c["id"] for c in page["contacts"]]
        pages += 1
        token = page["next_page_token"]
        if not token:
            break
    assert pages == 3
    assert seen == sorted(created)
    assert bad_field(await client.get("/contacts", page_token="garbage")) == "page_token"
    assert bad_field(await client.get("/contacts", page_size="ten")) == "page_size"


async def test_filters_by_external_id_and_channel_identity(api):
    client = conv(api)
    ann = (await client.post("/contacts", person("+1", external_id="ann"))).json()
    bob = (await client.post("/contacts", person("+2", external_id="bob"))).json()
    by_external = (await client.get("/contacts", external_id="bob")).json()
    assert [c["id"] for c in by_external["contacts"]] == [bob["id"]]
    assert by_external["total_size"] == 1 and by_external["next_page_token"] == ""
    by_identity = (await client.get("/contacts", channel="SMS", identity="+1")).json()
    assert [c["id"] for c in by_identity["contacts"]] == [ann["id"]]
    assert bad_field(await client.get("/contacts", channel="SMS")) == "identity"
    assert bad_field(await client.get("/contacts", channel="FAX", identity="1")) == "channel"
    other = await other_project(api)
    assert (await other.get("/contacts", external_id="bob")).json()["contacts"] == []


async def test_patch_with_mask_and_identity_sync(api):
    client = conv(api)
    contact = (await client.post("/contacts", person(display_name="Ann", email="a@x"))).json()
    path = f"/contacts/{contact['id']}"
    new_ids = [{"channel": "WHATSAPP", "identity": "+9"}]
    body = {"display_name": "Bob", "channel_identities": new_ids, "email": "ignored@x"}
    reply = await client.patch(path, body, mask="display_name,channel_identities")
    assert reply.status_code == 200, reply.text
    updated = reply.json()
    assert updated["display_name"] == "Bob" and updated["email"] == "a@x"
    assert updated["channel_identities"] == [
        {"channel": "WHATSAPP", "identity": "+9", "app_id": ""}
    ]
    assert await identities_of(api, contact["id"]) == {("WHATSAPP", "+9")}
    # As the SDK clears a field: named in the mask and sent as null.
    cleared = (await client.patch(path, {"email": None}, mask="email")).json()
    assert cleared["email"] == "" and cleared["display_name"] == "Bob"
    assert bad_field(await client.patch(path, {"language": None})) == "language"
    assert bad_field(await client.patch(path, {}, mask="id")) == "update_mask"
    assert (await client.get(path)).json() == cleared


async def test_delete_removes_contact_and_identities(api):
    client = conv(api)
    contact = (await client.post("/contacts", person("+46700000042"))).json()
    async with api.db.read() as conn:
        assert await contact_ids_by_identity(conn, api.project, "SMS", "+46700000042") == [
            contact["id"]
        ]
    reply = await client.delete(f"/contacts/{contact['id']}")
    assert reply.status_code == 200 and reply.json() == {}
    assert_not_found(await client.get(f"/contacts/{contact['id']}"))
    assert_not_found(await client.delete(f"/contacts/{contact['id']}"))
    assert await identities_of(api, contact["id"]) == set()


async def test_engine_entry_points_accept_batch_api_items(api):
    """The contacts jobs of the Batch API hand over their own request type."""
    import msgspec

    from convbatch.contacts.service import create_contact, delete_contact, find_contact
    from convbatch.errors import InvalidArgument
    from convbatch.jobs.schemas import ContactCreateRequest

    item = msgspec.convert(person("+3", display_name="Job"), ContactCreateRequest)
    async with api.db.transaction() as conn:
        contact = await create_contact(conn, api.project, item, 1_700_000_000_000)
    assert (await conv(api).get(f"/contacts/{contact.id}")).json()["display_name"] == "Job"
    bad = msgspec.convert(person(language="UNSPECIFIED"), ContactCreateRequest)
    async with api.db.transaction() as conn:
        try:
            await create_contact(conn, api.project, bad, 1_700_000_000_000)
            raise AssertionError("UNSPECIFIED accepted")
        except InvalidArgument as exc:
            assert "language" in exc.message
        deleted = await delete_contact(conn, api.project, contact.id)
        assert deleted == contact
        assert await find_contact(conn, api.project, contact.id) is None
        assert await delete_contact(conn, api.project, contact.id) is None
