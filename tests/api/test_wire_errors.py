"""Transport-level bad input: malformed JSON, content type, size limits, unknown routes."""

from __future__ import annotations

from convbatch.db.tables import batches
from tests.api.builders import batch
from tests.api.test_batches_send import count_rows
from tests.support import running_api


def assert_envelope(reply, code: int, status: str) -> dict:
    assert reply.status_code == code, reply.text
    error = reply.json()["error"]
    assert error["code"] == code and error["status"] == status
    assert error["message"]
    return error


async def test_malformed_json(api):
    reply = await api.client.post(
        api.url("/messages"),
        content=b'{"app_id": ',
        headers={**api.auth, "Content-Type": "application/json"},
    )
    assert "Malformed JSON" in assert_envelope(reply, 400, "INVALID_ARGUMENT")["message"]


async def test_body_that_is_not_an_object(api):
    reply = await api.client.post(
        api.url("/messages"), content=b"[1, 2]",
        headers={**api.auth, "Content-Type": "application/json"},
    )  # fmt: skip
    assert_envelope(reply, 400, "INVALID_ARGUMENT")


async def test_wrong_content_type(api):
    reply = await api.client.post(
        api.url("/messages"), content=b"{}", headers={**api.auth, "Content-Type": "text/plain"}
    )
    error = assert_envelope(reply, 415, "INVALID_ARGUMENT")
    assert "application/json" in error["message"]


async def test_body_over_the_limit_is_413(settings):
    async with running_api(settings.with_(max_body_bytes=4096)) as api:
        reply = await api.post("/messages", batch(api.tenant.app_id, 200))
        assert_envelope(reply, 413, "INVALID_ARGUMENT")
        assert await count_rows(api, batches) == 0
        small = await api.post("/messages", batch(api.tenant.app_id, 2))
        assert small.status_code == 200


async def test_default_limit_is_eight_mebibytes(api):
    reply = await api.client.post(
        api.url("/messages"),
        content=b" " * (8 * 1024 * 1024 + 1),
        headers={**api.auth, "Content-Type": "application/json"},
    )
    assert_envelope(reply, 413, "INVALID_ARGUMENT")


async def test_unknown_route_and_method(api):
    assert_envelope(await api.client.get(api.url("/nothing"), headers=api.auth), 404, "NOT_FOUND")
    reply = await api.client.put(api.url("/messages"), headers=api.auth)
    assert reply.status_code == 405
    assert reply.json()["error"]["code"] == 405


async def test_empty_body(api):
    reply = await api.client.post(
        api.url("/messages"), content=b"", headers={**api.auth, "Content-Type": "application/json"}
    )
    assert_envelope(reply, 400, "INVALID_ARGUMENT")
