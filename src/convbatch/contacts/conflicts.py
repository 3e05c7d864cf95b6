"""Contact calls about identities: ``GET /contacts:identityConflicts`` (identities that more
than one contact carries) and ``POST /contacts:getChannelProfile`` (the name a channel shows
for a recipient: no channel convbatch drives keeps user profiles, so there is never one)."""

from __future__ import annotations

from typing import Literal

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from convbatch.api.auth import authenticated
from convbatch.api.paging import decode_token, encode_token, page_size
from convbatch.api.wire import decode_json, json_response
from convbatch.apps.service import require_app
from convbatch.contacts import repository as repo
from convbatch.errors import InvalidArgument, NotFound
from convbatch.schemas.common import Recipient, StrictStruct, recipient_error
from convbatch.services import services_of

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100


class IdentityConflict(msgspec.Struct):
    identity: str
    channels: list[str]
    contact_ids: list[str]


class IdentityConflicts(msgspec.Struct):
    conflicts: list[IdentityConflict]
    next_page_token: str


class ChannelProfileRequest(StrictStruct, kw_only=True):
    app_id: str
    recipient: Recipient
    channel: Literal["MESSENGER", "INSTAGRAM", "VIBER", "VIBERBM", "LINE", "KAKAOTALK"]


def _grouped(rows: list[tuple[str, str, str]]) -> list[IdentityConflict]:
    found: dict[str, IdentityConflict] = {}
    for identity, channel, contact_id in rows:
        conflict = found.setdefault(identity, IdentityConflict(identity, [], []))
        if channel not in conflict.channels:
            conflict.channels.append(channel)
        if contact_id not in conflict.contact_ids:
            conflict.contact_ids.append(contact_id)
    return list(found.values())


@authenticated
async def list_identity_conflicts(request: Request, project_id: str) -> Response:
    params = request.query_params
    size = page_size(params.get("page_size"), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    after = decode_token(params.get("page_token"), "identity-conflicts", 1)
    async with services_of(request).db.read() as conn:
        rows = await repo.shared_identities(
            conn, project_id, None if after is None else str(after[0]), size + 1
        )
    conflicts = _grouped(rows)
    token = ""
    if len(conflicts) > size:
        conflicts = conflicts[:size]
        token = encode_token("identity-conflicts", [conflicts[-1].identity])
    return json_response(IdentityConflicts(conflicts, token))


@authenticated
async def get_channel_profile(request: Request, project_id: str) -> Response:
    req = await decode_json(request, ChannelProfileRequest)
    problem = recipient_error(req.recipient, "recipient")
    if problem:
        field, _, description = problem.partition(": ")
        raise InvalidArgument.field(field, description or problem)
    async with services_of(request).db.read() as conn:
        await require_app(conn, project_id, req.app_id)
    raise NotFound(f"No {req.channel} profile is available for this recipient")


routes = [
    Route("/contacts:identityConflicts", list_identity_conflicts, methods=["GET"]),
    Route("/contacts:getChannelProfile", get_channel_profile, methods=["POST"]),
]
