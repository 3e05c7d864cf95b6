"""What the HTTP-speaking drivers share: one pooled client session per driver, opened on first
use (inside the engine's event loop), and sending a batch's messages concurrently but bounded."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from http import HTTPStatus
from typing import Any, TypeVar

import aiohttp
import msgspec

from convbatch.net.session import guarded_session, read_capped

T = TypeVar("T")
R = TypeVar("R")

_encode = msgspec.json.Encoder().encode
JSON_HEADERS = {"Content-Type": "application/json"}


class PooledHttp:
    def __init__(self, concurrency: int, timeout_s: float) -> None:
        self.concurrency = max(1, concurrency)
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = guarded_session(self.concurrency, self.timeout)
        return self._session

    async def each(self, items: Sequence[T], work: Callable[[T], Awaitable[R]]) -> list[R]:
        """``work`` on every item, at most ``concurrency`` at a time, results in item order."""
        gate = asyncio.Semaphore(self.concurrency)

        async def bounded(item: T) -> R:
            async with gate:
                return await work(item)

        return list(await asyncio.gather(*(bounded(item) for item in items)))

    async def post_json(
        self, url: str, body: Any, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], Any]:
        """POST ``body`` as JSON; the status, headers (lower-cased names) and the decoded reply
        (None if not JSON, or larger than the reply cap)."""
        async with self.session().post(
            url,
            data=_encode(body),
            headers={**JSON_HEADERS, **(headers or {})},
            allow_redirects=False,
        ) as reply:
            raw, cut = await read_capped(reply)
            raw = b"" if cut else raw
            try:
                payload = msgspec.json.decode(raw) if raw else None
            except msgspec.DecodeError:
                payload = None
            return reply.status, {k.lower(): v for k, v in reply.headers.items()}, payload

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def error_text(status: int, payload: Any = None) -> str:
    """A one-line account of an error reply in our own words: the status code and its name.
    The reply's body is never repeated, since a tenant reads these lines and the URL is the
    tenant's choice."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)
