"""The console's pages over HTTP on both databases (the browser tests run on SQLite only):
sign-in with form tokens, every page answering with the project's own data, filters and
searches (including LIKE wildcards taken literally), cancelling, the live counts stream,
refused forms and another project's batch."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from convbatch.config import Settings
from tests.support import Api, running_api

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
async def console_api(settings: Settings) -> AsyncIterator[Api]:
    async with running_api(settings.with_(console_stream_seconds=1)) as running:
        yield running


def form_token(html: str) -> str:
    found = TOKEN.search(html)
    assert found is not None, html[:500]
    return found.group(1)


async def signed_in(api: Api) -> httpx.AsyncClient:
    client = api.client
    form = await client.get("/console/sign-in")
    assert form.status_code == 200
    reply = await client.post("/console/sign-in", data={
        "csrf_token": form_token(form.text), "key_id": api.tenant.key_id,
        "key_secret": api.tenant.key_secret})  # fmt: skip
    assert reply.status_code == 303 and reply.headers["location"] == "/console/batches"
    cookie = reply.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=" in cookie
    return client


def send_body(api: Api, count: int, **extra: object) -> dict[str, object]:
    people = [{"recipient": {"identified_by": {"channel_identities": [
        {"channel": "SMS", "identity": f"+4680{i:04d}5"}]}}, "parameters": {"name": f"P{i}"}}
        for i in range(count)]  # fmt: skip
    return {"app_id": api.tenant.app_id, "message": {"text_message": {"text": "Hi ${name}"}},
            "recipient_and_params": people, **extra}  # fmt: skip


async def send(api: Api, count: int, **extra: object) -> str:
    reply = await api.post("/messages", send_body(api, count, **extra))
    assert reply.status_code == 200, reply.text
    return str(reply.json()["batch_id"])


def later() -> str:
    return (datetime.now(UTC) + timedelta(hours=1)).isoformat()


async def test_pages_show_the_projects_data(console_api: Api) -> None:
    client = await signed_in(console_api)
    batch_id = await send(console_api, 120, batch_metadata={"campaign": "pages"})
    listed = await client.get("/console/batches", params={"key": "campaign", "value": "pages"})
    assert listed.status_code == 200 and batch_id in listed.text
    assert batch_id not in (await client.get("/console/batches?status=CANCELLED")).text
    page1 = await client.get(f"/console/batches/{batch_id}")
    assert page1.status_code == 200 and "+468000005" in page1.text
    assert "Page 1 of 3" in page1.text and "+468000505" not in page1.text
    assert page1.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page1.headers["content-security-policy"]
    page2 = await client.get(f"/console/batches/{batch_id}?page=2")
    assert "+468000505" in page2.text and "+468000005" not in page2.text
    found = await client.get(f"/console/batches/{batch_id}", params={"identity": "001105"})
    assert found.text.count("<tr data-identity=") == 1 and "+468001105" in found.text
    for path in ("inbox", "webhooks", "contacts", "consents"):
        reply = await client.get(f"/console/{path}", params={"q": "%_\\"})
        assert reply.status_code == 200, (path, reply.text[:300])
    wildcard = await client.get(f"/console/batches/{batch_id}", params={"identity": "%"})
    assert "<tr data-identity=" not in wildcard.text


async def test_cancel_and_live_counts(console_api: Api) -> None:
    client = await signed_in(console_api)
    batch_id = await send(console_api, 5, send_after=later())
    page = await client.get(f"/console/batches/{batch_id}")
    reply = await client.post(f"/console/batches/{batch_id}/cancel",
                              data={"csrf_token": form_token(page.text)})  # fmt: skip
    assert reply.status_code == 303 and "notice=cancelled" in reply.headers["location"]
    status = await console_api.get(f"/messages/{batch_id}")
    assert status.json()["status"] == "CANCELLED"
    live = await client.get(f"/console/batches/{batch_id}/live")
    assert live.headers["content-type"].startswith("text/event-stream")
    assert "event: counts" in live.text and '"cancelled":5' in live.text


async def test_refused_forms_and_other_projects(console_api: Api) -> None:
    client = await signed_in(console_api)
    mine = await send(console_api, 2, send_after=later())
    for data in ({}, {"csrf_token": "cbt1.x.y"}):
        reply = await client.post(f"/console/batches/{mine}/cancel", data=data)
        assert reply.status_code == 403
    assert (await console_api.get(f"/messages/{mine}")).json()["status"] == "SCHEDULED"

    other, token = await console_api.new_tenant()
    body = send_body(console_api, 2, send_after=later())
    body["app_id"] = other.app_id
    reply = await client.post(f"/v1/projects/{other.project_id}/messages", json=body,
                              headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    theirs = reply.json()["batch_id"]
    assert (await client.get(f"/console/batches/{theirs}")).status_code == 404
    page = await client.get("/console/batches")
    await client.post(f"/console/batches/{theirs}/cancel",
                      data={"csrf_token": form_token(page.text)})  # fmt: skip
    status = await client.get(f"/v1/projects/{other.project_id}/messages/{theirs}",
                              headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert status.json()["status"] == "SCHEDULED"


async def test_signed_out_visitors_are_sent_to_sign_in(console_api: Api) -> None:
    client = console_api.client
    reply = await client.get("/console/batches")
    assert reply.status_code == 303 and reply.headers["location"] == "/console/sign-in"
    live = await client.get("/console/batches/x/live", headers={"accept": "text/event-stream"})
    assert live.status_code == 401
    # A bearer token is no session cookie.
    client.cookies.set("cb_console", console_api.token)
    assert (await client.get("/console/batches")).status_code == 303
    bad = await client.post("/console/sign-in", data={"key_id": "x", "key_secret": "y"})
    assert bad.status_code == 403  # no sign-in form token


async def test_live_streams_past_the_cap_only_ask_the_browser_to_come_back(
    settings: Settings,
) -> None:
    async with running_api(settings.with_(console_max_streams=0)) as api:
        client = await signed_in(api)
        batch_id = await send(api, 1, send_after=later())
        live = await client.get(f"/console/batches/{batch_id}/live")
        assert live.status_code == 200
        assert live.text == "retry: 5000\n\n"
