"""Finding: two connections declaring a large body and sending one byte held both batch-send
slots, and another tenant's send waited behind them; a body had no read deadline."""

from __future__ import annotations

import asyncio

from tests.security.kit import batch, served


async def slow_upload(
    port: int, path: str, token: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{".encode()
    )
    await writer.drain()
    return reader, writer


async def test_slow_uploads_hold_no_slot_and_are_cut_off(sqlite_url, tmp_path):
    env = {"CONVBATCH_BODY_READ_TIMEOUT_S": "10"}
    async with served(sqlite_url, tmp_path, **env) as (server, client):
        app_id = await client.create_app()
        path = f"/v1/projects/{client.tenant.project_id}/messages"
        slow = [await slow_upload(server.port, path, client.token) for _ in range(4)]
        await asyncio.sleep(0.5)  # the slow requests are in their handlers now
        # Another send goes through while the slow ones are still uploading.
        batch_id = await asyncio.wait_for(client.send(batch(app_id)), timeout=8)
        assert batch_id
        for reader, writer in slow:  # each is answered 408 once its deadline passes
            head = await asyncio.wait_for(reader.readline(), timeout=20)
            assert b" 408 " in head, head
            writer.close()
