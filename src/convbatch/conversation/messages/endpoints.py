"""HTTP endpoints that read messages: GET /messages/{message_id} and GET /messages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from convbatch.api.auth import authenticated
from convbatch.api.paging import decode_token, encode_token, page_size
from convbatch.api.wire import json_response
from convbatch.apps.repository import get_app, list_apps
from convbatch.clock import epoch_ms, parse_rfc3339
from convbatch.contacts.identities import phone_plus
from convbatch.conversation.messages import repository as repo
from convbatch.conversation.messages.schemas import ConversationMessage, MessageList
from convbatch.conversation.messages.view import batch_context, message_view
from convbatch.errors import InvalidArgument, NotFound
from convbatch.services import services_of

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 1000


async def _views(
    conn: AsyncConnection, project_id: str, rows: Sequence[Row]
) -> list[ConversationMessage]:
    modes: dict[str, str] = {}
    for app_id in {row.app_id for row in rows}:
        app = await get_app(conn, project_id, app_id)
        modes[app_id] = app.processing_mode if app is not None else "CONVERSATION"
    batches = {row.batch_id: batch_context(row.batch_request) for row in rows if row.batch_id}
    return [message_view(row, modes[row.app_id], batches.get(row.batch_id)) for row in rows]


async def message_views(
    conn: AsyncConnection, project_id: str, rows: Sequence[Row], view: str | None
) -> list[ConversationMessage]:
    """The rows as messages; ``view`` WITHOUT_METADATA blanks their metadata."""
    views = await _views(conn, project_id, rows)
    if view == "WITHOUT_METADATA":
        for one in views:
            one.metadata = ""
    return views


@authenticated
async def get_message(request: Request, project_id: str) -> Response:
    message_id = request.path_params["message_id"]
    async with services_of(request).db.read() as conn:
        row = await repo.get_message_row(conn, project_id, message_id)
        if row is None:
            raise NotFound(f"Message {message_id} not found")
        [view] = await _views(conn, project_id, [row])
    return json_response(view)


def _time_ms(name: str, raw: str | None) -> int | None:
    if not raw:
        return None
    try:
        return epoch_ms(parse_rfc3339(raw))
    except ValueError:
        raise InvalidArgument.field(name, f"'{raw}' is not an RFC 3339 date-time") from None


_SOURCES = {"CONVERSATION_SOURCE": "CONVERSATION", "DISPATCH_SOURCE": "DISPATCH"}
_VIEWS = ("WITH_METADATA", "WITHOUT_METADATA")
_DIRECTIONS = ("TO_APP", "TO_CONTACT")


def _choice(params: Mapping[str, str], name: str, allowed: Iterable[str]) -> str | None:
    value = params.get(name) or None
    if value is not None and value not in allowed:
        raise InvalidArgument.field(name, f"'{value}' is not one of {', '.join(allowed)}")
    return value


def _flag(params: Mapping[str, str], name: str) -> bool:
    value = (params.get(name) or "false").lower()
    if value not in ("true", "false"):
        raise InvalidArgument.field(name, f"'{value}' is not true or false")
    return value == "true"


async def message_filter(
    conn: AsyncConnection, project_id: str, params: Mapping[str, str]
) -> repo.MessageFilter:
    source = _choice(params, "messages_source", _SOURCES)
    dispatch_apps: tuple[str, ...] = ()
    if source is not None:
        apps = await list_apps(conn, project_id)
        dispatch_apps = tuple(app.id for app in apps if app.processing_mode == "DISPATCH")
    identity = params.get("channel_identity") or None
    return repo.MessageFilter(
        app_id=params.get("app_id") or None,
        batch_id=params.get("batch_id") or None,
        channel=params.get("channel") or None,
        start_ms=_time_ms("start_time", params.get("start_time")),
        end_ms=_time_ms("end_time", params.get("end_time")),
        contact_id=params.get("contact_id") or None,
        channel_identity=None if identity is None else phone_plus(identity),
        mode=None if source is None else _SOURCES[source],
        dispatch_apps=dispatch_apps,
    )


def _matches_nothing(params: Mapping[str, str]) -> bool:
    """Every message here was sent by an app to a contact, in no conversation (convbatch keeps
    none): asking for messages from contacts, or of a conversation, finds nothing."""
    return (
        _choice(params, "direction", _DIRECTIONS) == "TO_APP"
        or _flag(params, "only_recipient_originated")
        or bool(params.get("conversation_id"))
    )


@authenticated
async def list_messages(request: Request, project_id: str) -> Response:
    params = request.query_params
    size = page_size(params.get("page_size"), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    after = decode_token(params.get("page_token"), "messages-newest", 3, (int, str, int))
    view = _choice(params, "view", _VIEWS)
    if _matches_nothing(params):
        return json_response(MessageList([], ""))
    async with services_of(request).db.read() as conn:
        filters = await message_filter(conn, project_id, params)
        key = None if after is None else (int(after[0]), str(after[1]), int(after[2]))
        rows = await repo.list_message_rows(conn, project_id, filters, key, size + 1)
        views = await message_views(conn, project_id, rows[:size], view)
    next_token = ""
    if len(rows) > size:
        last = rows[size - 1]
        next_token = encode_token(
            "messages-newest", [last.created_at, last.batch_id or last.id, last.idx]
        )
    return json_response(MessageList(views, next_token))


routes = [
    Route("/messages", list_messages, methods=["GET"]),
    Route("/messages/{message_id}", get_message, methods=["GET"]),
]
