"""Conversation API /apps: create, read, list, update with and without a mask, delete."""

from __future__ import annotations

from tests.api.conversation_client import assert_not_found, bad_field, conv, other_project

SMS = {"channel": "SMS", "static_bearer": {"claimed_identity": "spid", "token": "tok"}}


def new_app(**fields):
    return {"display_name": "Shop", "channel_credentials": [SMS], **fields}


async def test_create_returns_the_app_with_defaults_and_driver(api):
    reply = await conv(api).post("/apps", new_app(processing_mode="DISPATCH"))
    assert reply.status_code == 200, reply.text
    app = reply.json()
    assert len(app["id"]) == 26
    assert app["display_name"] == "Shop"
    assert app["processing_mode"] == "DISPATCH"
    assert app["conversation_metadata_report_view"] == "NONE"
    [credential] = app["channel_credentials"]
    assert credential["static_bearer"] == {"claimed_identity": "spid", "token": "********"}
    assert credential["driver"] == "sandbox" and credential["driver_settings"] == {}
    assert credential["state"] == {"status": "ACTIVE"}
    fetched = await conv(api).get(f"/apps/{app['id']}")
    assert fetched.json() == app


async def test_channel_without_credentials_gets_a_placeholder(api):
    body = new_app(channel_credentials=[
        {"channel": "WHATSAPP", "driver": "http", "driver_settings": {"url": "http://x"},
         "rate_limit": 5},
        {"channel": "MMS"},
    ])  # fmt: skip
    app = (await conv(api).post("/apps", body)).json()
    whatsapp, mms = app["channel_credentials"]
    assert whatsapp["static_bearer"] == {"claimed_identity": "", "token": ""}
    assert whatsapp["driver"] == "http" and whatsapp["rate_limit"] == 5
    assert mms["mms_credentials"] == {"account_id": "", "api_key": ""}


async def test_list_shows_only_this_projects_apps(api):
    created = (await conv(api).post("/apps", new_app())).json()
    other = await other_project(api)
    theirs = (await other.post("/apps", new_app(display_name="Theirs"))).json()
    listed = (await conv(api).get("/apps")).json()
    assert set(listed) == {"apps"}
    ids = {a["id"] for a in listed["apps"]}
    assert created["id"] in ids and api.tenant.app_id in ids
    assert theirs["id"] not in ids


async def test_unknown_and_foreign_apps_are_not_found(api):
    other = await other_project(api)
    theirs = (await other.post("/apps", new_app())).json()["id"]
    for app_id in ("01ARZ3NDEKTSV4RRFFQ69G5FAV", theirs):
        assert_not_found(await conv(api).get(f"/apps/{app_id}"))
        assert_not_found(await conv(api).patch(f"/apps/{app_id}", {"display_name": "x"}))
        assert_not_found(await conv(api).delete(f"/apps/{app_id}"))
    assert (await other.get(f"/apps/{theirs}")).status_code == 200


async def test_create_rejects_bad_input_naming_the_field(api):
    client = conv(api)
    assert bad_field(await client.post("/apps", {"channel_credentials": [SMS]})) == "display_name"
    bad_channel = new_app(channel_credentials=[{"channel": "PIGEON"}])
    assert bad_field(await client.post("/apps", bad_channel)) == "channel_credentials[0].channel"
    bad_driver = new_app(channel_credentials=[{"channel": "SMS", "driver": "carrier"}])
    assert bad_field(await client.post("/apps", bad_driver)) == "channel_credentials[0].driver"
    twice = new_app(channel_credentials=[SMS, SMS])
    assert bad_field(await client.post("/apps", twice)) == "channel_credentials[1].channel"
    assert bad_field(await client.post("/apps", new_app(processing_mode="X"))) == "processing_mode"


async def test_patch_without_mask_changes_only_given_fields(api):
    app = (await conv(api).post("/apps", new_app(processing_mode="DISPATCH"))).json()
    reply = await conv(api).patch(f"/apps/{app['id']}", {"display_name": "Renamed"})
    assert reply.status_code == 200, reply.text
    updated = reply.json()
    assert updated["display_name"] == "Renamed"
    assert updated["processing_mode"] == "DISPATCH"
    assert updated["channel_credentials"] == app["channel_credentials"]
    assert (await conv(api).get(f"/apps/{app['id']}")).json() == updated


async def test_patch_with_mask_resets_named_fields_missing_from_the_body(api):
    body = new_app(processing_mode="DISPATCH",
                   retention_policy={"retention_type": "PERSIST_RETENTION_POLICY"})  # fmt: skip
    app = (await conv(api).post("/apps", body)).json()
    reply = await conv(api).patch(
        f"/apps/{app['id']}",
        {"display_name": "New", "processing_mode": "CONVERSATION"},
        mask="display_name,retention_policy",
    )
    assert reply.status_code == 200, reply.text
    updated = reply.json()
    assert updated["display_name"] == "New"
    # Not in the mask: untouched although the body carried it.
    assert updated["processing_mode"] == "DISPATCH"
    assert updated["retention_policy"]["retention_type"] == "MESSAGE_EXPIRE_POLICY"


async def test_patch_refuses_unknown_mask_fields_and_clearing_the_name(api):
    app_id = (await conv(api).post("/apps", new_app())).json()["id"]
    reply = await conv(api).patch(f"/apps/{app_id}", {}, mask="id")
    assert bad_field(reply) == "update_mask"
    assert bad_field(await conv(api).patch(f"/apps/{app_id}", {"display_name": None})) == (
        "display_name"
    )


async def test_delete_removes_the_app_and_its_webhooks(api):
    client = conv(api)
    app_id = (await client.post("/apps", new_app())).json()["id"]
    hook = {"app_id": app_id, "target": "https://example.com/h", "triggers": ["MESSAGE_DELIVERY"]}
    webhook_id = (await client.post("/webhooks", hook)).json()["id"]
    reply = await client.delete(f"/apps/{app_id}")
    assert reply.status_code == 200 and reply.json() == {}
    assert_not_found(await client.get(f"/apps/{app_id}"))
    assert_not_found(await client.get(f"/webhooks/{webhook_id}"))
    assert app_id not in {a["id"] for a in (await client.get("/apps")).json()["apps"]}


async def test_driver_credentials_are_never_shown(api):
    settings = {"base_url": "http://127.0.0.1:9/conversation", "key_id": "k",
                "key_secret": "s3cret", "callback_secret": "cb", "timeout": 5}  # fmt: skip
    body = new_app(channel_credentials=[{"channel": "SMS", "driver": "conversation_api",
                                         "driver_settings": settings}])  # fmt: skip
    created = await conv(api).post("/apps", body)
    assert created.status_code == 200, created.text
    for reply in (created, await conv(api).get(f"/apps/{created.json()['id']}")):
        shown = reply.json()["channel_credentials"][0]["driver_settings"]
        assert shown["key_secret"] == shown["callback_secret"] == "********"
        assert shown["base_url"] == settings["base_url"] and shown["key_id"] == "k"
        assert "s3cret" not in reply.text
