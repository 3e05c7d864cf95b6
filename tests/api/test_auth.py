"""OAuth2 token endpoint and bearer checks on every API route."""

from __future__ import annotations

import base64
import json

import pytest

from convbatch.clock import FakeClock
from convbatch.db.tables import batches
from tests.api.builders import batch
from tests.api.test_batches_send import count_rows
from tests.support import running_api

ROUTES = [
    ("POST", "/messages"),
    ("DELETE", "/messages"),
    ("GET", "/messages?metadataKey=a&metadataValue=b"),
    ("GET", "/messages/01EQBDK8771J6A1FV8MQPE1XAR"),
    ("POST", "/contacts"),
    ("DELETE", "/contacts"),
    ("POST", "/consents"),
]


async def test_token_response_has_sinch_fields(api):
    reply = await api.client.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(api.tenant.key_id, api.tenant.key_secret),
    )
    body = reply.json()
    assert reply.status_code == 200
    assert set(body) == {"access_token", "expires_in", "scope", "token_type"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600


@pytest.mark.parametrize(
    "auth,form",
    [
        (("nope", "nope"), {"grant_type": "client_credentials"}),
        (None, {"grant_type": "client_credentials"}),
        ("wrong-secret", {"grant_type": "client_credentials"}),
    ],
)
async def test_token_refused_for_bad_credentials(api, auth, form):
    if auth == "wrong-secret":
        auth = (api.tenant.key_id, api.tenant.key_secret + "x")
    reply = await api.client.post("/oauth2/token", data=form, auth=auth)
    assert reply.status_code == 401
    assert reply.json()["error"] == "invalid_client"


async def test_token_refused_for_other_grant(api):
    reply = await api.client.post(
        "/oauth2/token", data={"grant_type": "password"},
        auth=(api.tenant.key_id, api.tenant.key_secret),
    )  # fmt: skip
    assert reply.status_code == 400
    assert reply.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize("method,path", ROUTES)
@pytest.mark.parametrize(
    "header",
    [None, "Bearer not-a-token", "Basic abc", "Bearer cbt1.e30.forged"],
    ids=["missing", "garbage", "wrong-scheme", "forged"],
)
async def test_every_route_needs_a_valid_bearer(api, method, path, header):
    headers = {"Content-Type": "application/json"}
    if header:
        headers["Authorization"] = header
    reply = await api.client.request(method, api.url(path), headers=headers, content=b"{}")
    assert reply.status_code == 401, reply.text
    assert reply.json()["error"]["status"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("method,path", ROUTES)
async def test_other_projects_token_is_403(api, method, path):
    _tenant, token = await api.new_tenant()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    reply = await api.client.request(method, api.url(path), headers=headers, content=b"{}")
    assert reply.status_code == 403
    assert reply.json()["error"]["status"] == "PERMISSION_DENIED"


async def test_tampered_token_is_rejected(api):
    prefix, body, mac = api.token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims[-1] += 10**6  # extend the expiry without re-signing
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    forged = f"{prefix}.{encoded}.{mac}"
    reply = await api.client.get(
        api.url("/messages/x"), headers={"Authorization": f"Bearer {forged}"}
    )
    assert reply.status_code == 401


async def test_expired_token_is_401_with_expired_hint(settings):
    clock = FakeClock()
    async with running_api(settings, clock=clock) as api:
        assert (await api.get("/messages/x")).status_code == 404
        clock.advance(3601)
        reply = await api.post("/messages", batch(api.tenant.app_id))
        assert reply.status_code == 401
        assert "expired" in reply.headers["www-authenticate"]
        assert "expired" in reply.json()["error"]["message"]
        assert await count_rows(api, batches) == 0


async def test_tokens_survive_a_restart(settings):
    async with running_api(settings) as first:
        token, project = first.token, first.project
    async with running_api(settings) as second:
        reply = await second.client.get(
            f"/v1/projects/{project}/messages/x", headers={"Authorization": f"Bearer {token}"}
        )
        assert reply.status_code == 404  # authenticated; the batch simply does not exist
