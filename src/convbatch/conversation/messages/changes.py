"""``PATCH /messages/{id}`` (new metadata) and ``DELETE /messages/{id}`` (forget the message).

Both apply to messages that have left the queue (sent, failed, expired or cancelled): a
message still waiting or in flight belongs to the engine, which writes its metadata when it
sends it and counts it in its batch until then, so those calls are refused with 400
FAILED_PRECONDITION. A deleted message leaves its batch's counts as they were.
"""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta
from sqlalchemy import delete, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from convbatch.api.auth import authenticated
from convbatch.api.wire import decode_json, json_response
from convbatch.conversation.messages import repository as repo
from convbatch.conversation.messages.endpoints import message_views
from convbatch.db.tables import messages
from convbatch.errors import FailedPrecondition, NotFound
from convbatch.schemas.common import StrictStruct
from convbatch.services import services_of

PENDING = ("QUEUED", "SCHEDULED", "SENDING")


class MessagePatch(StrictStruct, kw_only=True):
    metadata: Annotated[str, Meta(max_length=1024)]


async def _finished_row(conn: AsyncConnection, project_id: str, message_id: str) -> Row:
    row = await repo.get_message_row(conn, project_id, message_id)
    if row is None:
        raise NotFound(f"Message {message_id} not found")
    if row.state in PENDING:
        raise FailedPrecondition(f"Message {message_id} has not left the queue yet")
    return row


@authenticated
async def update_message(request: Request, project_id: str) -> Response:
    message_id = request.path_params["message_id"]
    patch = await decode_json(request, MessagePatch)
    services = services_of(request)
    async with services.db.transaction() as conn:
        await _finished_row(conn, project_id, message_id)
        await conn.execute(
            update(messages).where(messages.c.id == message_id)
            .values(metadata=patch.metadata, updated_at=services.now_ms())
        )  # fmt: skip
        row = await _finished_row(conn, project_id, message_id)
        [view] = await message_views(conn, project_id, [row], None)
    return json_response(view)


@authenticated
async def delete_message(request: Request, project_id: str) -> Response:
    message_id = request.path_params["message_id"]
    async with services_of(request).db.transaction() as conn:
        await _finished_row(conn, project_id, message_id)
        await conn.execute(delete(messages).where(messages.c.id == message_id))
    return json_response({})


routes = [
    Route("/messages/{message_id}", update_message, methods=["PATCH"]),
    Route("/messages/{message_id}", delete_message, methods=["DELETE"]),
]
