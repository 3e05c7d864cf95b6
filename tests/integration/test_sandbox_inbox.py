"""The sandbox inbox extension: what the channel received, per app, paged, project-scoped."""

from __future__ import annotations

import asyncio
import json
import sys

from tests.api.builders import batch
from tests.integration.helpers import FAST, wait_for_status
from tests.support import running_api


async def test_inbox_lists_rendered_messages_with_paging(settings):
    async with running_api(settings.with_(**FAST), engine=True) as api:
        batch_id = (await api.post("/messages", batch(api.tenant.app_id, 5))).json()["batch_id"]
        await wait_for_status(api, batch_id, "PROCESSED")
        url = api.conv_url(f"/apps/{api.tenant.app_id}/sandbox/messages")
        first = (await api.client.get(url, params={"page_size": 3}, headers=api.auth)).json()
        assert len(first["messages"]) == 3 and first["next_page_token"]
        rest = await api.client.get(
            url, params={"page_size": 3, "page_token": first["next_page_token"]}, headers=api.auth
        )
        second = rest.json()
        assert len(second["messages"]) == 2 and second["next_page_token"] == ""
        seen = first["messages"] + second["messages"]
        assert {m["batch_id"] for m in seen} == {batch_id}
        assert sorted(m["message"]["text_message"]["text"] for m in seen) == [
            f"Hello n{i}" for i in range(5)
        ]
        assert {m["deliveries"] for m in seen} == {1}
        other, token = await api.new_tenant()
        foreign = await api.client.get(
            f"/conversation/v1/projects/{other.project_id}/apps/{api.tenant.app_id}/sandbox/messages",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert foreign.status_code == 404


async def test_inbox_cli(settings):
    async with running_api(settings.with_(**FAST), engine=True) as api:
        batch_id = (await api.post("/messages", batch(api.tenant.app_id, 2))).json()["batch_id"]
        await wait_for_status(api, batch_id, "PROCESSED")
        # Asynchronously: the app (and its open SQLite transactions) must keep running meanwhile.
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "convbatch", "sandbox", "inbox", "--project", api.project,
            "--app", api.tenant.app_id, "--db", settings.database_url, "--json",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        stdout, stderr = await proc.communicate()
        assert proc.returncode == 0, stderr.decode()
        listed = json.loads(stdout)["messages"]
        assert len(listed) == 2 and listed[0]["batch_id"] == batch_id
