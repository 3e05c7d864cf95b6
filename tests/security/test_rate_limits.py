"""Finding: no request rate limit: 300 requests in 0.6 s by one key, never a 429."""

from __future__ import annotations

import asyncio
import time

from tests.e2e.processes import Client, create_tenant
from tests.security.kit import auth, conv_path, served


async def test_a_key_past_its_rate_gets_429_and_others_do_not(sqlite_url, tmp_path):
    env = {"CONVBATCH_KEY_RATE_PER_S": "2", "CONVBATCH_KEY_BURST": "10"}
    async with served(sqlite_url, tmp_path, **env) as (server, client):
        path = conv_path(client, "/apps")
        began = time.monotonic()
        replies = await asyncio.gather(
            *(client.http.get(path, headers=auth(client)) for _ in range(60))
        )
        refilled = 2 * (time.monotonic() - began)  # what the bucket regained meanwhile
        codes = [r.status_code for r in replies]
        assert codes.count(200) <= 10 + refilled + 1, codes
        assert codes.count(429) == 60 - codes.count(200), codes
        limited = next(r for r in replies if r.status_code == 429)
        assert int(limited.headers["Retry-After"]) >= 1
        assert limited.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
        async with Client(server.url, create_tenant(sqlite_url)) as other:
            reply = await other.http.get(conv_path(other, "/apps"), headers=auth(other))
            assert reply.status_code == 200
        await asyncio.sleep(1.5)  # the bucket refills
        assert (await client.http.get(path, headers=auth(client))).status_code == 200
