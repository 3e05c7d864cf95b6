"""A real HTTP receiver on loopback standing in for a channel that cannot deduplicate: it answers
200 to every POST and counts POSTs per ``Idempotency-Key`` (the message id), so a test sees every
second send of a message."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web


class CountingReceiver:
    def __init__(self, latency_s: float = 0.0) -> None:
        self.latency_s = latency_s
        self.posts: Counter[str] = Counter()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/send"

    @property
    def resends(self) -> int:
        return sum(count - 1 for count in self.posts.values())

    async def _handle(self, request: web.Request) -> web.Response:
        await request.read()
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        self.posts[request.headers.get("Idempotency-Key", "")] += 1
        return web.json_response({"accepted": True})

    async def start(self) -> CountingReceiver:
        app = web.Application()
        app.router.add_post("/send", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@asynccontextmanager
async def counting_receiver(latency_s: float = 0.0) -> AsyncIterator[CountingReceiver]:
    receiver = await CountingReceiver(latency_s).start()
    try:
        yield receiver
    finally:
        await receiver.stop()
