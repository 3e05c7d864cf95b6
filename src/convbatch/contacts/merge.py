"""``POST /contacts/{destination_id}:merge``: fold the source contact into the destination.

The destination keeps its fields and gains the source's channel identities and channel
priorities it lacks (and the source's values for fields it has empty); the source is deleted.
"""

from __future__ import annotations

from typing import Literal

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from convbatch.api.auth import authenticated
from convbatch.api.wire import decode_json, json_response
from convbatch.contacts import repository as repo
from convbatch.contacts.schemas import Contact
from convbatch.contacts.service import DEFAULT_DISPLAY_NAME, require_contact
from convbatch.errors import InvalidArgument
from convbatch.schemas.common import NonEmptyStr, StrictStruct
from convbatch.services import services_of


class MergeRequest(StrictStruct, kw_only=True):
    source_id: NonEmptyStr
    strategy: Literal["MERGE"] | None = None


def merged(destination: Contact, source: Contact) -> Contact:
    known = {(ci.channel, ci.identity, ci.app_id) for ci in destination.channel_identities}
    identities = [*destination.channel_identities, *(
        ci for ci in source.channel_identities if (ci.channel, ci.identity, ci.app_id) not in known
    )]  # fmt: skip
    priority = list(dict.fromkeys([*destination.channel_priority, *source.channel_priority]))
    display_name = destination.display_name
    if display_name == DEFAULT_DISPLAY_NAME:
        display_name = source.display_name
    return msgspec.structs.replace(
        destination, channel_identities=identities, channel_priority=priority,
        display_name=display_name, email=destination.email or source.email,
        external_id=destination.external_id or source.external_id,
        metadata=destination.metadata or source.metadata,
    )  # fmt: skip


async def merge_contacts(
    conn: AsyncConnection, project_id: str, destination_id: str, source_id: str
) -> Contact:
    if source_id == destination_id:
        raise InvalidArgument.field("source_id", "a contact cannot be merged into itself")
    destination = await require_contact(conn, project_id, destination_id)
    source = await require_contact(conn, project_id, source_id)
    result = merged(destination, source)
    await repo.replace_contact(conn, project_id, result)
    await repo.delete_contact_row(conn, project_id, source_id)
    return result


@authenticated
async def merge_contact(request: Request, project_id: str) -> Response:
    req = await decode_json(request, MergeRequest)
    destination_id = request.path_params["destination_id"]
    async with services_of(request).db.transaction() as conn:
        contact = await merge_contacts(conn, project_id, destination_id, req.source_id)
    return json_response(contact)


routes = [Route("/contacts/{destination_id}:merge", merge_contact, methods=["POST"])]
