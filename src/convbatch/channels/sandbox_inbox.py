"""Extension: read what the sandbox channel received, to check a test run or a demo.

``GET /conversation/v1/projects/{project_id}/apps/{app_id}/sandbox/messages`` lists the inbox of
one app, oldest first, with the rendered message exactly as the channel got it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from convbatch.api.auth import authenticated
from convbatch.api.openapi import Operation
from convbatch.api.paging import decode_token, encode_token, page_size
from convbatch.api.wire import json_response
from convbatch.apps.service import require_app
from convbatch.clock import to_rfc3339
from convbatch.db.tables import sandbox_inbox as inbox
from convbatch.services import services_of

_decode = msgspec.json.decode


class SandboxMessage(msgspec.Struct):
    message_id: str
    batch_id: str | None
    channel: str
    identity: str
    message: dict[str, Any]
    deliveries: int  # how many sends of this message id arrived (duplicates are absorbed)
    received_time: str
    pending_receipts: list[str]


class SandboxMessages(msgspec.Struct):
    messages: list[SandboxMessage]
    next_page_token: str


async def list_inbox(
    conn: AsyncConnection, app_id: str, size: int, after: list[Any] | None,
    batch_id: str | None = None,
) -> SandboxMessages:  # fmt: skip
    query = select(inbox).where(inbox.c.app_id == app_id)
    if batch_id:
        query = query.where(inbox.c.batch_id == batch_id)
    if after:
        at, last_id = after
        same_time_later_id = and_(inbox.c.received_at == at, inbox.c.message_id > last_id)
        query = query.where(or_(inbox.c.received_at > at, same_time_later_id))
    rows = (
        await conn.execute(query.order_by(inbox.c.received_at, inbox.c.message_id).limit(size + 1))
    ).all()
    items = [
        SandboxMessage(
            r.message_id,
            r.batch_id,
            r.channel,
            r.identity,
            _decode(r.body),
            r.deliveries,
            to_rfc3339(datetime.fromtimestamp(r.received_at / 1000, UTC)),
            [step[0] for step in _decode(r.receipt_plan or "[]")],
        )
        for r in rows[:size]
    ]
    token = ""
    if len(rows) > size:
        token = encode_token("sandbox", [rows[size - 1].received_at, rows[size - 1].message_id])
    return SandboxMessages(items, token)


@authenticated
async def sandbox_messages(request: Request, project_id: str) -> Response:
    services = services_of(request)
    params = request.query_params
    size = page_size(params.get("page_size"), default=100, maximum=1000)
    after = decode_token(params.get("page_token"), "sandbox", 2, (int, str))
    async with services.db.read() as conn:
        app = await require_app(conn, project_id, request.path_params["app_id"])
        found = await list_inbox(conn, app.id, size, after, params.get("batch_id"))
    return json_response(found)


routes = [Route("/apps/{app_id}/sandbox/messages", sandbox_messages, methods=["GET"])]

OPERATIONS = [
    Operation(
        "GET", "/conversation/v1/projects/{project_id}/apps/{app_id}/sandbox/messages",
        "What the sandbox channel of an app received", "Sandbox", None, SandboxMessages,
        query=(("page_size", "Items per page (default 100, at most 1000)", False),
               ("page_token", "Token from the previous page", False),
               ("batch_id", "Only messages of this batch", False)),
        extension=True,
    ),
]  # fmt: skip
