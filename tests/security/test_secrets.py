"""Findings: secrets were shown back; a mask sent back replaced them; they were stored in clear
with the token signing key beside them; the SQLite file was world-readable; a 500 logged the
handler's local variables."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import select

from convbatch.apps.repository import get_app
from convbatch.db.tables import apps, webhooks
from convbatch.identity.tokens import TokenSigner
from tests.api.conversation_client import conv
from tests.e2e.processes import CLI
from tests.security.kit import auth, conv_path, served

SECRETS = {
    "token": "bearer-secret-1", "receipt": "receipt-secret-2", "header": "Bearer header-secret-3",
    "api_key": "api-key-secret-4", "password": "url-password-5",
    "callback": "callback-secret-6",
    "override": "override-secret-7", "hook": "hook-secret-8", "client": "client-secret-9",
}  # fmt: skip


def secret_app() -> dict[str, Any]:
    http = {"url": f"https://gw:{SECRETS['password']}@gateway.example/send",
            "headers": {"Authorization": SECRETS["header"]}, "receipt_token": SECRETS["receipt"],
            "api_key": SECRETS["api_key"]}  # fmt: skip
    return {"display_name": "secrets", "channel_credentials": [{
        "channel": "SMS", "static_bearer": {"claimed_identity": "me", "token": SECRETS["token"]},
        "callback_secret": SECRETS["callback"], "driver": "http", "driver_settings": http}],
        "callback_settings": {"secret_for_overridden_callback_urls": SECRETS["override"]},
    }  # fmt: skip


async def test_secrets_are_masked_on_read_and_sealed_in_the_database(api):
    created = await conv(api).post("/apps", secret_app())
    assert created.status_code == 200, created.text
    app_id = created.json()["id"]
    hook = {"app_id": app_id, "target": "https://example.com/h", "triggers": ["MESSAGE_DELIVERY"],
            "secret": SECRETS["hook"], "client_credentials": {
                "client_id": "c", "client_secret": SECRETS["client"],
                "endpoint": "https://auth.example/token"}}  # fmt: skip
    made = await conv(api).post("/webhooks", hook)
    assert made.status_code == 200, made.text
    reads = [created, made, await conv(api).get(f"/apps/{app_id}"), await conv(api).get("/apps"),
             await conv(api).get(f"/webhooks/{made.json()['id']}"),
             await conv(api).get(f"/apps/{app_id}/webhooks")]  # fmt: skip
    for reply in reads:
        assert not [s for s in SECRETS.values() if s in reply.text], reply.text
    shown = reads[2].json()["channel_credentials"][0]
    assert shown["static_bearer"] == {"claimed_identity": "me", "token": "********"}
    assert shown["driver_settings"]["url"] == "https://gw:********@gateway.example/send"
    assert shown["driver_settings"]["headers"] == {"Authorization": "********"}
    assert reads[4].json()["secret"] == "********"
    async with api.db.read() as conn:
        stored = [r[0] for r in await conn.execute(select(apps.c.doc))]
        stored += [r[0] for r in await conn.execute(select(webhooks.c.doc))]
    assert not [s for s in SECRETS.values() if any(s in doc for doc in stored)]


async def test_get_then_patch_back_keeps_every_secret(api):
    app_id = (await conv(api).post("/apps", secret_app())).json()["id"]
    fetched = (await conv(api).get(f"/apps/{app_id}")).json()
    body = {k: fetched[k] for k in ("display_name", "channel_credentials", "callback_settings")}
    reply = await conv(api).patch(f"/apps/{app_id}", body)
    assert reply.status_code == 200, reply.text
    async with api.db.read() as conn:
        app = await get_app(conn, api.project, app_id)
    assert app is not None
    [channel] = app.channel_credentials
    assert channel.driver_settings["receipt_token"] == SECRETS["receipt"]
    assert channel.driver_settings["headers"] == {"Authorization": SECRETS["header"]}
    assert SECRETS["password"] in channel.driver_settings["url"]
    assert channel.static_bearer == {"claimed_identity": "me", "token": SECRETS["token"]}
    assert app.callback_settings.secret_for_overridden_callback_urls == SECRETS["override"]
    receipts = api.conv_url(f"/apps/{app_id}/http-receipts")
    body_ = {"message_id": "01EQBDK8771J6A1FV8MQPE1XAR", "status": "DELIVERED"}
    masked = await api.client.post(receipts, json=body_, headers={"X-Receipt-Token": "********"})
    assert masked.status_code == 401
    real = await api.client.post(
        receipts, json=body_, headers={"X-Receipt-Token": SECRETS["receipt"]}
    )
    assert real.status_code == 404  # authenticated; the message is unknown
    # A mask where nothing is stored is refused rather than stored.
    fresh = {
        "display_name": "x",
        "channel_credentials": [
            {
                "channel": "SMS",
                "driver": "http",
                "driver_settings": {"url": "https://example.com", "receipt_token": "********"},
            }
        ],
    }
    refused = await conv(api).post("/apps", fresh)
    assert refused.status_code == 400, refused.text


async def test_token_key_is_not_in_the_database_and_old_one_is_dropped(sqlite_url, tmp_path):
    legacy = b"k" * 32
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as db:
        db.execute("INSERT INTO server_state (key, value) VALUES ('token_signing_key', ?)",
                   (__import__("base64").b64encode(legacy).decode(),))  # fmt: skip
    async with served(sqlite_url, tmp_path) as (_server, client):
        forged = TokenSigner(legacy).issue(client.tenant.project_id, "any", 4_102_444_800)
        reply = await client.http.get(conv_path(client, "/apps"),
                                      headers={"Authorization": f"Bearer {forged}"})  # fmt: skip
        assert reply.status_code == 401
        assert (
            await client.http.get(conv_path(client, "/apps"), headers=auth(client))
        ).status_code == 200
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as db:
        assert db.execute(
            "SELECT count(*) FROM server_state WHERE key='token_signing_key'"
        ).fetchone() == (0,)


def test_new_database_and_key_file_are_private(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "CONVBATCH_SECRET_KEY"}
    database = tmp_path / "fresh.db"
    done = subprocess.run([*CLI, "db", "upgrade", "--db", f"sqlite:///{database}"], env=env,
                          capture_output=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    for path in (database, Path(f"{database}.key")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


async def test_a_500_logs_no_locals_headers_or_secrets(sqlite_url, tmp_path):
    async with served(sqlite_url, tmp_path) as (server, client):
        reply = await client.http.post(conv_path(client, "/apps"), json=secret_app(),
                                       headers=auth(client))  # fmt: skip
        app_id = reply.json()["id"]
        with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as db:
            doc = db.execute("SELECT doc FROM apps WHERE id = ?", (app_id,)).fetchone()[0]
            broken = msgspec.json.decode(doc)
            broken["channel_credentials"][0]["channel"] = 12  # no longer an App
            db.execute("UPDATE apps SET doc = ? WHERE id = ?",
                       (msgspec.json.encode(broken).decode(), app_id))  # fmt: skip
        failed = await client.http.get(conv_path(client, f"/apps/{app_id}"), headers=auth(client))
        assert failed.status_code == 500 and failed.json()["error"]["status"] == "INTERNAL"
        log = server.log_path.read_text(errors="replace")
    assert "unhandled error" in log
    for leak in (client.token, client.tenant.key_secret, "authorization", "Bearer ",
                 *SECRETS.values()):  # fmt: skip
        assert leak not in log, leak
    assert len(log) < 20_000, len(log)
