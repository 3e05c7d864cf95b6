"""Finding: unbounded input. Huge texts, identities and metadata were stored; placeholders
turned an 18 KB request into a 20 MB message; deep JSON and hand-made page tokens were 500s;
duplicate keys were read as their last value."""

from __future__ import annotations

import base64
import json
from typing import Any

from sqlalchemy import func, select

from convbatch.db.tables import batches, messages
from convbatch.limits import MAX_IDENTITY_CHARS, MAX_MESSAGE_STRING_CHARS
from tests.api.conversation_client import conv
from tests.integration.helpers import FAST, wait_for_status
from tests.security.kit import batch
from tests.support import running_api


def field_of(reply: Any) -> str:
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    violations = error["details"][0]["field_violations"] if error["details"] else [{}]
    return str(violations[0].get("field", error["message"]))


async def stored_batches(api: Any) -> int:
    async with api.db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(batches))).scalar_one())


async def test_oversized_fields_are_400s_naming_them_and_store_nothing(api):
    app = api.tenant.app_id
    huge_text = batch(app, message={"text_message": {"text": "x" * 1_000_000}})
    assert field_of(await api.post("/messages", huge_text)) == "message.text_message.text"
    long_id = batch(app)
    long_id["recipient_and_params"][0]["recipient"]["identified_by"]["channel_identities"][0][
        "identity"] = "1" * 1_000_000  # fmt: skip
    assert "identity" in field_of(await api.post("/messages", long_id))
    many_keys = batch(app, batch_metadata={f"k{i}": "v" for i in range(100_000)})
    assert field_of(await api.post("/messages", many_keys)) == "batch_metadata"
    placeholders = batch(app, message={"text_message": {"text": "${a} " * 200}},
                         parameter_defaults={"a": "y" * 1000})  # fmt: skip
    assert field_of(await api.post("/messages", placeholders)) == "message"
    assert await stored_batches(api) == 0
    just_fits = batch(app, message={"text_message": {"text": "x" * MAX_MESSAGE_STRING_CHARS}})
    assert (await api.post("/messages", just_fits)).status_code == 200
    assert MAX_IDENTITY_CHARS >= 64


async def test_a_recipient_whose_rendered_message_is_too_large_fails_alone(settings):
    async with running_api(settings.with_(**FAST), engine=True) as api:
        body = batch(api.tenant.app_id, message={"text_message": {"text": "${a}" * 90}})
        first = body["recipient_and_params"][0]
        big = {**first, "parameters": {"a": "y" * 1000}}  # 90 KB rendered
        small = {**first, "parameters": {"a": "ok"}}
        body["recipient_and_params"] = [big, small]
        reply = await api.post("/messages", body)
        assert reply.status_code == 200, reply.text
        await wait_for_status(api, reply.json()["batch_id"], "PROCESSED")
        async with api.db.read() as conn:
            rows = {r.idx: r for r in await conn.execute(select(messages))}
        assert rows[0].state == "FAILED" and rows[0].reason_code == "BAD_REQUEST"
        assert "CONVBATCH_MAX_RENDERED_CHARS" in rows[0].reason_description
        assert rows[1].state != "FAILED"


async def test_deep_json_duplicate_keys_and_bad_page_tokens_are_400s(api):
    deep = '{"display_name": "x", "rate_limits": ' + "[" * 1000 + "]" * 1000 + "}"
    headers = {**api.auth, "Content-Type": "application/json"}
    reply = await api.client.post(api.conv_url("/apps"), content=deep, headers=headers)
    assert reply.status_code == 400 and "nested" in reply.json()["error"]["message"]
    twice = '{"display_name": "a", "display_name": "b"}'
    reply = await api.client.post(api.conv_url("/apps"), content=twice, headers=headers)
    assert field_of(reply) == "display_name"
    made = [
        base64.urlsafe_b64encode(json.dumps(t).encode()).decode().rstrip("=")
        for t in (["messages", {"a": 1}, 2, "x"], ["messages", "1", 2, "x"],
                  ["contacts", [1]], ["sandbox", "x", 5])
    ]  # fmt: skip
    for token in [*made, "%%%", "AAAA", "eyJ"]:
        for path in ("/messages", "/contacts", f"/apps/{api.tenant.app_id}/sandbox/messages"):
            reply = await conv(api).get(path, page_token=token)
            assert reply.status_code == 400, (path, token, reply.text)
