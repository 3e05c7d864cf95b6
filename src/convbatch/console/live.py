"""Server-Sent Events for the console's live pages: a batch's counts when they change, and
sandbox messages as they arrive.

The page opens one EventSource and does not poll; the server looks at the database every
``console_live_ms`` and sends only what changed. A stream closes itself after
``console_stream_seconds`` (so a server stopping is not held up by open pages) and the browser
reconnects at once, picking up where it left off (the inbox through ``Last-Event-ID``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from sqlalchemy.engine import Row
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from convbatch.batches.service import status_of
from convbatch.console import repository as repo
from convbatch.console.render import FINAL_STATUSES, message_text, short_time
from convbatch.console.session import Session, signed_in
from convbatch.services import services_of

RECONNECT_MS = 250
BUSY_RECONNECT_MS = 5000  # when every stream slot is taken, the browser tries again this late
QUIET_MS = 60_000  # a finished batch whose counts stood still this long will not change
INBOX_BATCH = 200
_encode = msgspec.json.Encoder().encode


def _event(kind: str, data: Any, event_id: str | None = None) -> str:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {kind}\ndata: {_encode(data).decode()}\n\n"


def _streaming(request: Request, events: AsyncIterator[str]) -> Response:
    """The stream, if this process has a free slot for it; else one that only tells the
    browser to come back later (an error status would make it give up for good)."""
    state = request.app.state
    limit = services_of(request).settings.console_max_streams

    async def counted() -> AsyncIterator[str]:
        # Checked and taken with no await in between, when the body starts: a slot is never
        # held by a response that was not sent.
        if getattr(state, "console_streams", 0) >= limit:
            yield f"retry: {BUSY_RECONNECT_MS}\n\n"
            return
        state.console_streams = getattr(state, "console_streams", 0) + 1
        try:
            async for event in events:
                yield event
        finally:
            state.console_streams -= 1

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(counted(), media_type="text/event-stream", headers=headers)


async def _ticks(request: Request) -> AsyncIterator[None]:
    """Yield every ``console_live_ms`` until this stream's time is up."""
    settings = services_of(request).settings
    deadline = time.monotonic() + settings.console_stream_seconds
    while time.monotonic() < deadline:
        yield
        await asyncio.sleep(settings.console_live_ms / 1000)


def _finished(row: Row, now_ms: int) -> bool:
    return row.status in FINAL_STATUSES and row.queued == 0 and now_ms - row.updated_at > QUIET_MS


@signed_in
async def batch_counts(request: Request, session: Session) -> Response:
    services = services_of(request)
    batch_id = request.path_params["batch_id"]

    async def events() -> AsyncIterator[str]:
        yield f"retry: {RECONNECT_MS}\n\n"
        last = None
        async for _ in _ticks(request):
            async with services.db.read() as conn:
                row = await repo.batch_row(conn, session.project_id, batch_id)
            if row is None:
                yield _event("end", {"reason": "not found"})
                return
            status = _encode(status_of(row))
            if status != last:
                last = status
                yield f"event: counts\ndata: {status.decode()}\n\n"
            if _finished(row, services.now_ms()):
                yield _event("end", {"reason": "finished"})
                return

    return _streaming(request, events())


def _inbox_cursor(raw: str | None) -> tuple[int, str] | None:
    at, sep, message_id = (raw or "").partition("_")
    return (int(at), message_id) if sep and at.isdigit() and message_id else None


def inbox_item(row: Row) -> dict[str, Any]:
    return {
        "message_id": row.message_id, "batch_id": row.batch_id, "identity": row.identity,
        "channel": row.channel, "text": message_text(row.body),
        "received_ms": row.received_at, "received": short_time(row.received_at),
    }  # fmt: skip


@signed_in
async def inbox_messages(request: Request, session: Session) -> Response:
    """New sandbox messages of the project (of identities containing ``q`` if given)."""
    services = services_of(request)
    search = (request.query_params.get("q") or "").strip()
    start = request.headers.get("last-event-id") or request.query_params.get("after")
    cursor = _inbox_cursor(start) or (services.now_ms(), "")

    async def events() -> AsyncIterator[str]:
        nonlocal cursor
        yield f"retry: {RECONNECT_MS}\n\n"
        async with services.db.read() as conn:
            app_ids = await repo.project_app_ids(conn, session.project_id)
        async for _ in _ticks(request):
            async with services.db.read() as conn:
                rows = await repo.inbox_after(conn, app_ids, cursor, INBOX_BATCH)
            for row in rows:
                cursor = (row.received_at, row.message_id)
                if search in row.identity:
                    yield _event("message", inbox_item(row), f"{cursor[0]}_{cursor[1]}")

    return _streaming(request, events())
