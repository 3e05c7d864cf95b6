"""Per-batch and per-app facts the engine needs for every message, loaded once and cached."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

import msgspec
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.apps.repository import get_app
from convbatch.apps.schemas import App, ChannelCredential
from convbatch.batches.render import Template
from convbatch.batches.schemas import BatchOptions
from convbatch.db.tables import batches

_decode_options = msgspec.json.Decoder(BatchOptions).decode
APP_REFRESH_SECONDS = 2.0


@dataclass(slots=True)
class BatchContext:
    batch_id: str
    project_id: str
    app_id: str
    options: BatchOptions
    template: Template
    starts_at_ms: int  # send_after, or acceptance for immediate batches
    ttl_ms: int | None
    single: bool = False  # the carrier of a single send (messages:send), not a user's batch

    @property
    def public_batch_id(self) -> str | None:
        """The batch id receipts may show: none for a single send."""
        return None if self.single else self.batch_id

    @property
    def processing_mode(self) -> str:
        return "DISPATCH" if self.options.processing_strategy == "DISPATCH_ONLY" else "CONVERSATION"


def _ttl_ms(ttl: str | None) -> int | None:
    return None if ttl is None else int(ttl[:-1]) * 1000


class ContextCache:
    """Batches (immutable once accepted) in an LRU; apps for a couple of seconds."""

    def __init__(self, max_batches: int = 2000) -> None:
        self._batches: OrderedDict[str, BatchContext] = OrderedDict()
        self._apps: dict[tuple[str, str], tuple[float, App | None]] = {}
        self._channels: dict[int, tuple[App, frozenset[str]]] = {}
        self._max = max_batches

    async def batches(self, conn: AsyncConnection, ids: Iterable[str]) -> dict[str, BatchContext]:
        wanted = set(ids)
        missing = [i for i in wanted if i not in self._batches]
        if missing:
            query = select(
                batches.c.id, batches.c.project_id, batches.c.app_id, batches.c.request,
                batches.c.send_after, batches.c.created_at, batches.c.operation,
            ).where(batches.c.id.in_(bindparam("ids", expanding=True)))  # fmt: skip
            for row in await conn.execute(query, {"ids": missing}):
                options = _decode_options(row.request)
                self._batches[row.id] = BatchContext(
                    row.id, row.project_id, row.app_id, options,
                    Template.compile(msgspec.to_builtins(options.message)),
                    row.send_after or row.created_at, _ttl_ms(options.ttl),
                    single=row.operation == "SINGLE",
                )  # fmt: skip
            while len(self._batches) > self._max:
                self._batches.popitem(last=False)
        return {i: self._batches[i] for i in wanted if i in self._batches}

    def channels(self, app: App) -> frozenset[str]:
        """The app's configured channels, computed once per cached app document."""
        key = id(app)
        found = self._channels.get(key)
        if found is None or found[0] is not app:
            found = (app, frozenset(app.channels()))
            self._channels[key] = found
        return found[1]

    def cached_app(self, project_id: str, app_id: str) -> App | None:
        hit = self._apps.get((project_id, app_id))
        return hit[1] if hit else None

    async def app(self, conn: AsyncConnection, project_id: str, app_id: str) -> App | None:
        key = (project_id, app_id)
        hit = self._apps.get(key)
        now = time.monotonic()
        if hit and now - hit[0] < APP_REFRESH_SECONDS:
            return hit[1]
        found = await get_app(conn, project_id, app_id)
        self._apps[key] = (now, found)
        return found


def channel_config(app: App, channel: str) -> ChannelCredential | None:
    for credential in app.channel_credentials:
        if credential.channel == channel:
            return credential
    return None
