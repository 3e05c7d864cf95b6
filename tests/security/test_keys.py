"""Finding: no way to revoke a key, tokens of a revoked key kept working, and the token answer
could be cached."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time

from tests.e2e.processes import CLI, environment
from tests.security.kit import conv_path, served


def cli(database_url: str, *args: str) -> dict | list:
    done = subprocess.run([*CLI, *args, "--json"], env=environment(database_url),
                          capture_output=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return json.loads(done.stdout)


async def test_revoke_and_rotate_stop_tokens_on_the_running_server(sqlite_url, tmp_path):
    async with served(sqlite_url, tmp_path) as (_server, client):
        token_reply = await client.http.post(
            "/oauth2/token", data={"grant_type": "client_credentials"},
            auth=(client.tenant.key_id, client.tenant.key_secret))  # fmt: skip
        assert token_reply.headers["cache-control"] == "no-store"
        project = client.tenant.project_id
        path = conv_path(client, "/apps")
        headers = {"Authorization": f"Bearer {client.token}"}
        assert (await client.http.get(path, headers=headers)).status_code == 200

        rotated = cli(sqlite_url, "keys", "rotate", "--project", project)
        assert isinstance(rotated, dict) and rotated["revoked"] == [client.tenant.key_id]
        started = time.monotonic()
        while (await client.http.get(path, headers=headers)).status_code != 401:
            assert time.monotonic() - started < 5, "revoked key's token still works after 5 s"
            await asyncio.sleep(0.2)
        refused = await client.http.post(
            "/oauth2/token", data={"grant_type": "client_credentials"},
            auth=(client.tenant.key_id, client.tenant.key_secret))  # fmt: skip
        assert refused.status_code == 401 and refused.headers["cache-control"] == "no-store"

        fresh = await client.http.post(
            "/oauth2/token", data={"grant_type": "client_credentials"},
            auth=(rotated["key_id"], rotated["key_secret"]))  # fmt: skip
        new_headers = {"Authorization": f"Bearer {fresh.json()['access_token']}"}
        assert (await client.http.get(path, headers=new_headers)).status_code == 200
        cli(sqlite_url, "keys", "revoke", "--project", project, "--key", rotated["key_id"])
        listed = cli(sqlite_url, "keys", "list", "--project", project)
        assert isinstance(listed, list) and all(k["revoked_at"] for k in listed)
        assert {k["key_id"] for k in listed} == {client.tenant.key_id, rotated["key_id"]}
