"""The Conversation API's single send, ``POST /messages:send``.

A single send is stored as a batch of one (batch type MESSAGES, operation SINGLE, no batch
metadata) with one message row, so the engine sends it like any batch message. What differs is
kept in the batch's options: the caller's metadata goes out untouched (no merging, no
``_batch_id``), and ``${...}`` in the message is text, not a placeholder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from convbatch.api.auth import authenticated
from convbatch.api.wire import decode_json, json_response
from convbatch.apps.repository import get_app
from convbatch.batches import repository as repo
from convbatch.batches.message_limits import check_message
from convbatch.batches.render import Template
from convbatch.batches.schemas import BatchOptions, RecipientAndParam
from convbatch.batches.validate import check_against_app, check_options, split_error
from convbatch.clock import epoch_ms, to_rfc3339
from convbatch.conversation.send_schemas import (
    MAX_CONVERSATION_METADATA,
    SendMessageRequest,
    SendMessageResponse,
)
from convbatch.db.wakeup import notify
from convbatch.errors import InvalidArgument, NotFound
from convbatch.ids import new_ulid
from convbatch.schemas.app_message import app_message_errors
from convbatch.schemas.common import recipient_error
from convbatch.services import services_of

_encode = msgspec.json.Encoder().encode


def check_request(req: SendMessageRequest) -> None:
    """What needs no database; raises a 400 naming the field."""
    errors = app_message_errors(req.message, "message")
    if errors:
        raise InvalidArgument.field(*split_error(errors[0]))
    problem = recipient_error(req.recipient, "recipient")
    if problem:
        raise InvalidArgument.field(*split_error(problem))
    if req.processing_strategy == "DISPATCH_ONLY" and req.recipient.contact_id is not None:
        raise InvalidArgument.field(
            "recipient", "DISPATCH_ONLY sends must address the recipient with identified_by"
        )
    check_options(req.ttl, req.callback_url, req.channel_properties)
    check_message(req.message)
    if len(_encode(req.conversation_metadata or {})) > MAX_CONVERSATION_METADATA:
        raise InvalidArgument.field(
            "conversation_metadata", f"longer than {MAX_CONVERSATION_METADATA} characters as JSON"
        )


def literal_placeholders(message: dict[str, Any]) -> dict[str, str] | None:
    """Defaults that render every ``${name}`` of the message as itself: a single send has no
    parameters, and the renderer inserts default values verbatim, never scanning them again."""
    names = Template.compile(message).placeholders
    return {name: "${" + name + "}" for name in sorted(names)} or None


@dataclass
class PreparedSend:
    batch: dict[str, Any]
    messages: repo.NewMessages
    response: SendMessageResponse


def prepare(project_id: str, req: SendMessageRequest, now: datetime) -> PreparedSend:
    now_ms = epoch_ms(now)
    options = BatchOptions(
        message=req.message, processing_strategy=req.processing_strategy,
        callback_url=req.callback_url, channel_priority_order=req.channel_priority_order,
        ttl=req.ttl, channel_properties=req.channel_properties,
        correlation_id=req.correlation_id, message_content_type=req.message_content_type,
        queue=req.queue,
        conversation_metadata_update_strategy=req.conversation_metadata_update_strategy,
        parameter_defaults=literal_placeholders(msgspec.to_builtins(req.message)),
        single_message_metadata=req.message_metadata or "",
        single_conversation_metadata=req.conversation_metadata,
    )  # fmt: skip
    batch_id, message_id = new_ulid(now_ms), new_ulid(now_ms)
    batch = {
        "id": batch_id, "project_id": project_id, "app_id": req.app_id,
        "batch_type": "MESSAGES", "operation": "SINGLE", "status": "READY", "send_after": None,
        "metadata": "{}", "request": _encode(options).decode(), "total": 1, "queued": 1,
        "created_at": now_ms, "updated_at": now_ms,
    }  # fmt: skip
    item = _encode(RecipientAndParam(recipient=req.recipient)).decode()
    new = repo.NewMessages(project_id, req.app_id, batch_id, "QUEUED", now_ms, now_ms,
                           [(message_id, 0, item)])  # fmt: skip
    return PreparedSend(batch, new, SendMessageResponse(message_id, to_rfc3339(now)))


async def store(conn: AsyncConnection, prepared: PreparedSend) -> None:
    """Insert in the caller's transaction. No batch status callback: to the caller this is one
    message, not a batch."""
    await repo.insert_batch(conn, **prepared.batch)
    await repo.insert_messages(conn, prepared.messages)


@authenticated
async def send_message(request: Request, project_id: str) -> Response:
    req = await decode_json(request, SendMessageRequest)
    check_request(req)
    services = services_of(request)
    async with services.db.read() as conn:
        app = await get_app(conn, project_id, req.app_id)
    if app is None:
        raise NotFound(f"App {req.app_id} not found")
    check_against_app(req.channel_priority_order, app, [req.recipient], "recipient")
    prepared = prepare(project_id, req, services.clock.now())
    async with services.db.transaction() as conn:
        await store(conn, prepared)
        await notify(conn)
    services.wakeup.set()
    return json_response(prepared.response)


routes = [Route("/messages:send", send_message, methods=["POST"])]
