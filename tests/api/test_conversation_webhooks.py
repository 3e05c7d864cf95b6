"""Conversation API /webhooks: CRUD, the checks on targets and triggers, the per-app limit,
and the trigger lookups the callback sender uses."""

from __future__ import annotations

from convbatch.webhooks.repository import project_webhooks_for, webhooks_for
from tests.api.conversation_client import assert_not_found, bad_field, conv, other_project


def hook(app_id: str, **fields):
    return {"app_id": app_id, "target": "https://example.com/hook",
            "triggers": ["MESSAGE_DELIVERY", "BATCH_STATUS_UPDATE"], **fields}  # fmt: skip


async def test_create_get_and_list(api):
    client = conv(api)
    reply = await client.post("/webhooks", hook(api.tenant.app_id, secret="s3cr3t"))
    assert reply.status_code == 200, reply.text
    webhook = reply.json()
    assert len(webhook["id"]) == 26
    assert webhook["target_type"] == "DISMISS"
    assert webhook["triggers"] == ["MESSAGE_DELIVERY", "BATCH_STATUS_UPDATE"]
    assert webhook["secret"] == "********"  # write-only
    assert (await client.get(f"/webhooks/{webhook['id']}")).json() == webhook
    listed = (await client.get(f"/apps/{api.tenant.app_id}/webhooks")).json()
    assert listed == {"webhooks": [webhook]}


async def test_bad_input_names_the_field(api):
    client, app_id = conv(api), api.tenant.app_id
    cases = {
        "triggers[0]": hook(app_id, triggers=["SOMETHING_HAPPENED"]),
        "target": hook(app_id, target="ftp://example.com/x"),
        "target_type": hook(app_id, target_type="SMOKE_SIGNAL"),
        "app_id": hook("01ARZ3NDEKTSV4RRFFQ69G5FAV"),
    }
    for field, body in cases.items():
        assert bad_field(await client.post("/webhooks", body)) == field, field
    too_long = hook(app_id, target="https://example.com/" + "a" * 730)
    assert bad_field(await client.post("/webhooks", too_long)) == "target"
    loop = hook(app_id, target="https://conversation-api.eu.sinch.com/x")
    assert bad_field(await client.post("/webhooks", loop)) == "target"
    without_target = hook(app_id)
    del without_target["target"]
    assert bad_field(await client.post("/webhooks", without_target)) == "target"
    assert (await client.get(f"/apps/{app_id}/webhooks")).json() == {"webhooks": []}


async def test_sixth_webhook_of_an_app_is_refused(api):
    client, app_id = conv(api), api.tenant.app_id
    for n in range(5):
        reply = await client.post("/webhooks", hook(app_id, target=f"https://example.com/{n}"))
        assert reply.status_code == 200, reply.text
    assert bad_field(await client.post("/webhooks", hook(app_id))) == "app_id"
    assert len((await client.get(f"/apps/{app_id}/webhooks")).json()["webhooks"]) == 5


async def test_another_projects_app_and_webhook_are_out_of_reach(api):
    other = await other_project(api)
    [theirs] = (await other.get("/apps")).json()["apps"]
    assert bad_field(await conv(api).post("/webhooks", hook(theirs["id"]))) == "app_id"
    their_hook = (await other.post("/webhooks", hook(theirs["id"]))).json()["id"]
    for webhook_id in (their_hook, "01ARZ3NDEKTSV4RRFFQ69G5FAV"):
        assert_not_found(await conv(api).get(f"/webhooks/{webhook_id}"))
        assert_not_found(await conv(api).patch(f"/webhooks/{webhook_id}", {"secret": "x"}))
        assert_not_found(await conv(api).delete(f"/webhooks/{webhook_id}"))
    assert_not_found(await conv(api).get(f"/apps/{theirs['id']}/webhooks"))
    assert (await other.get(f"/webhooks/{their_hook}")).status_code == 200


async def test_patch_with_and_without_mask(api):
    client = conv(api)
    created = (await client.post("/webhooks", hook(api.tenant.app_id, secret="old"))).json()
    path = f"/webhooks/{created['id']}"
    reply = await client.patch(path, {"triggers": ["CONTACT_CREATE"]})
    assert reply.status_code == 200, reply.text
    assert reply.json()["triggers"] == ["CONTACT_CREATE"]
    assert reply.json()["secret"] == "********"  # still set, never shown
    # The mask names secret but the body has none: it is cleared; target_type is not named.
    reply = await client.patch(path, {"target_type": "HTTP"}, mask="secret")
    assert reply.json()["secret"] == "" and reply.json()["target_type"] == "DISMISS"
    assert bad_field(await client.patch(path, {"triggers": []})) == "triggers"
    assert bad_field(await client.patch(path, {}, mask="target")) == "target"
    assert (await client.get(path)).json()["triggers"] == ["CONTACT_CREATE"]


async def test_delete(api):
    client = conv(api)
    webhook_id = (await client.post("/webhooks", hook(api.tenant.app_id))).json()["id"]
    reply = await client.delete(f"/webhooks/{webhook_id}")
    assert reply.status_code == 200 and reply.json() == {}
    assert_not_found(await client.get(f"/webhooks/{webhook_id}"))


async def test_trigger_lookups(api):
    client, app_id = conv(api), api.tenant.app_id
    second_app = (await client.post("/apps", {"display_name": "Second"})).json()["id"]
    delivery = (await client.post("/webhooks", hook(app_id))).json()["id"]
    contacts = await client.post("/webhooks", hook(second_app, triggers=["CONTACT_CREATE"]))
    other = await other_project(api)
    [their_app] = (await other.get("/apps")).json()["apps"]
    await other.post("/webhooks", hook(their_app["id"], triggers=["CONTACT_CREATE"]))
    async with api.db.read() as conn:
        assert [
            w.id for w in await webhooks_for(conn, api.project, app_id, "MESSAGE_DELIVERY")
        ] == [delivery]
        assert await webhooks_for(conn, api.project, app_id, "CONTACT_CREATE") == []
        project_wide = await project_webhooks_for(conn, api.project, "CONTACT_CREATE")
    assert [w.id for w in project_wide] == [contacts.json()["id"]]


async def test_triggers_are_optional_on_create(api):
    client = conv(api)
    body = hook(api.tenant.app_id)
    del body["triggers"]
    reply = await client.post("/webhooks", body)
    assert reply.status_code == 200, reply.text
    webhook = reply.json()
    assert webhook["triggers"] == []
    assert (await client.get(f"/webhooks/{webhook['id']}")).json()["triggers"] == []
    # Given, they must name at least one trigger, as on update.
    assert bad_field(await client.post("/webhooks", hook(api.tenant.app_id, triggers=[]))) == (
        "triggers"
    )
    added = await client.patch(f"/webhooks/{webhook['id']}", {"triggers": ["MESSAGE_DELIVERY"]})
    assert added.json()["triggers"] == ["MESSAGE_DELIVERY"]
