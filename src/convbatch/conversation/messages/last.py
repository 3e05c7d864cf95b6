"""``POST /messages:fetch-last-message``: the newest message of each channel identity (or
contact) named in the body, newest first, a page of identities at a time."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta
from sqlalchemy.engine import Row
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from convbatch.api.auth import authenticated
from convbatch.api.paging import decode_token, encode_token, page_size
from convbatch.api.wire import decode_json, json_response
from convbatch.conversation.messages import repository as repo
from convbatch.conversation.messages.endpoints import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    message_filter,
    message_views,
)
from convbatch.conversation.messages.schemas import MessageList
from convbatch.errors import InvalidArgument
from convbatch.schemas.common import StrictStruct
from convbatch.services import services_of

MAX_NAMED = 1000


class LastMessagesRequest(StrictStruct, kw_only=True):
    channel_identities: Annotated[list[str], Meta(max_length=MAX_NAMED)] | None = None
    contact_ids: Annotated[list[str], Meta(max_length=MAX_NAMED)] | None = None
    app_id: str | None = None
    messages_source: Literal["CONVERSATION_SOURCE", "DISPATCH_SOURCE"] | None = None
    page_size: int | None = None
    page_token: str | None = None
    view: Literal["WITH_METADATA", "WITHOUT_METADATA"] | None = None
    start_time: str | None = None
    end_time: str | None = None
    channel: str | None = None
    direction: Literal["TO_APP", "TO_CONTACT"] | None = None


def _as_params(req: LastMessagesRequest) -> dict[str, str]:
    """The body's filters as the message list's query parameters."""
    fields = msgspec.structs.asdict(req)
    paging = ("page_size", "page_token")
    return {
        name: str(value)
        for name, value in fields.items()
        if isinstance(value, (str, int)) and name not in paging
    }


@authenticated
async def fetch_last_messages(request: Request, project_id: str) -> Response:
    req = await decode_json(request, LastMessagesRequest)
    if req.channel_identities and req.contact_ids:
        raise InvalidArgument.field(
            "contact_ids", "give channel_identities or contact_ids, not both"
        )
    named = [("channel_identity", one) for one in req.channel_identities or []]
    named += [("contact_id", one) for one in req.contact_ids or []]
    size = page_size(None if req.page_size is None else str(req.page_size), DEFAULT_PAGE_SIZE,
                     MAX_PAGE_SIZE)  # fmt: skip
    after = decode_token(req.page_token, "last-messages", 1, (int,))
    start = 0 if after is None else int(after[0])
    params = _as_params(req)
    rows: list[Row] = []
    async with services_of(request).db.read() as conn:
        if req.direction != "TO_APP":
            for name, value in named[start : start + size]:
                filters = await message_filter(conn, project_id, {**params, name: value})
                rows += await repo.list_message_rows(conn, project_id, filters, None, 1)
        rows.sort(key=lambda row: row.created_at, reverse=True)
        views = await message_views(conn, project_id, rows, params.get("view"))
    more = start + size < len(named)
    return json_response(
        MessageList(views, encode_token("last-messages", [start + size]) if more else "")
    )


routes = [Route("/messages:fetch-last-message", fetch_last_messages, methods=["POST"])]
