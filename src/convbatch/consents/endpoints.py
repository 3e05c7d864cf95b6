"""HTTP endpoints that read an app's consent lists and their audit trail."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from convbatch.api.auth import authenticated
from convbatch.api.paging import page_size
from convbatch.api.wire import json_response
from convbatch.apps.service import require_app
from convbatch.consents import service
from convbatch.contacts.identities import phone_plus
from convbatch.services import services_of

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 1000


@authenticated
async def list_identities(request: Request, project_id: str) -> Response:
    app_id = request.path_params["app_id"]
    list_type = service.check_list_type(request.path_params["list_type"])
    params = request.query_params
    size = page_size(params.get("page_size"), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    async with services_of(request).db.read() as conn:
        await require_app(conn, project_id, app_id)
        page = await service.identities_page(
            conn, app_id, list_type, size, params.get("page_token")
        )
    return json_response(page)


@authenticated
async def identity_audit(request: Request, project_id: str) -> Response:
    app_id = request.path_params["app_id"]
    async with services_of(request).db.read() as conn:
        await require_app(conn, project_id, app_id)
        identity = phone_plus(request.path_params["identity"])
        records = await service.audit_records(conn, app_id, identity)
    return json_response(records)


routes = [
    Route("/apps/{app_id}/consents/identities/{identity}", identity_audit, methods=["GET"]),
    Route("/apps/{app_id}/consents/{list_type}", list_identities, methods=["GET"]),
]
