"""HTTP endpoints of the Conversation API's /contacts resource."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from convbatch.api.auth import authenticated
from convbatch.api.paging import page_size
from convbatch.api.patch import update_mask
from convbatch.api.wire import decode_json, json_response
from convbatch.contacts import service
from convbatch.contacts.identities import phone_plus
from convbatch.contacts.schemas import ContactCreateRequest, ContactPatch
from convbatch.errors import InvalidArgument, NotFound
from convbatch.schemas.common import CHANNELS
from convbatch.services import services_of

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100


@authenticated
async def create_contact(request: Request, project_id: str) -> Response:
    req = await decode_json(request, ContactCreateRequest)
    services = services_of(request)
    async with services.db.transaction() as conn:
        contact = await service.create_contact(conn, project_id, req, services.now_ms())
    return json_response(contact)


def list_filters(request: Request) -> dict[str, str | None]:
    """external_id, and channel with identity: a channel identity is only meaningful whole."""
    params = request.query_params
    channel, identity = params.get("channel"), params.get("identity")
    if channel is not None and channel not in CHANNELS:
        raise InvalidArgument.field("channel", f"'{channel}' is not a channel")
    if (channel is None) != (identity is None):
        missing = "identity" if identity is None else "channel"
        raise InvalidArgument.field(missing, "channel and identity must be given together")
    if identity is not None:
        identity = phone_plus(identity)
    return {"external_id": params.get("external_id"), "channel": channel, "identity": identity}


@authenticated
async def list_contacts(request: Request, project_id: str) -> Response:
    size = page_size(request.query_params.get("page_size"), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    filters = list_filters(request)
    async with services_of(request).db.read() as conn:
        page = await service.list_page(
            conn, project_id, size, request.query_params.get("page_token"), filters
        )
    return json_response(page)


@authenticated
async def get_contact(request: Request, project_id: str) -> Response:
    async with services_of(request).db.read() as conn:
        contact = await service.require_contact(conn, project_id, request.path_params["contact_id"])
    return json_response(contact)


@authenticated
async def update_contact(request: Request, project_id: str) -> Response:
    mask = update_mask(request, service.UPDATABLE)
    patch = await decode_json(request, ContactPatch)
    async with services_of(request).db.transaction() as conn:
        contact = await service.update_contact(
            conn, project_id, request.path_params["contact_id"], patch, mask
        )
    return json_response(contact)


@authenticated
async def delete_contact(request: Request, project_id: str) -> Response:
    contact_id = request.path_params["contact_id"]
    async with services_of(request).db.transaction() as conn:
        deleted = await service.delete_contact(conn, project_id, contact_id)
    if deleted is None:
        raise NotFound(f"Contact {contact_id} not found")
    return json_response({})


routes = [
    Route("/contacts", create_contact, methods=["POST"]),
    Route("/contacts", list_contacts, methods=["GET"]),
    Route("/contacts/{contact_id}", get_contact, methods=["GET"]),
    Route("/contacts/{contact_id}", update_contact, methods=["PATCH"]),
    Route("/contacts/{contact_id}", delete_contact, methods=["DELETE"]),
]
