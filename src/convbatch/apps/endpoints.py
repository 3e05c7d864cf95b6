"""HTTP endpoints of the Conversation API's /apps resource."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from convbatch.api.auth import authenticated
from convbatch.api.patch import update_mask
from convbatch.api.wire import decode_json, json_response
from convbatch.apps import service
from convbatch.apps.repository import list_apps
from convbatch.apps.schemas import AppCreateRequest, AppList, AppPatch
from convbatch.apps.view import app_view
from convbatch.channels.limits import check_driver_limits
from convbatch.services import services_of


@authenticated
async def create_app(request: Request, project_id: str) -> Response:
    req = await decode_json(request, AppCreateRequest)
    services = services_of(request)
    check_driver_limits(req.channel_credentials, services.settings)
    async with services.db.transaction() as conn:
        app = await service.create_app(conn, project_id, req, services.now_ms())
    return json_response(app_view(app))


@authenticated
async def get_apps(request: Request, project_id: str) -> Response:
    async with services_of(request).db.read() as conn:
        apps = await list_apps(conn, project_id)
    return json_response(AppList([app_view(app) for app in apps]))


@authenticated
async def get_app(request: Request, project_id: str) -> Response:
    async with services_of(request).db.read() as conn:
        app = await service.require_app(conn, project_id, request.path_params["app_id"])
    return json_response(app_view(app))


@authenticated
async def update_app(request: Request, project_id: str) -> Response:
    mask = update_mask(request, service.UPDATABLE)
    patch = await decode_json(request, AppPatch)
    check_driver_limits(patch.channel_credentials, services_of(request).settings)
    async with services_of(request).db.transaction() as conn:
        app = await service.update_app(conn, project_id, request.path_params["app_id"], patch, mask)
    return json_response(app_view(app))


@authenticated
async def delete_app(request: Request, project_id: str) -> Response:
    async with services_of(request).db.transaction() as conn:
        await service.delete_app(conn, project_id, request.path_params["app_id"])
    return json_response({})


routes = [
    Route("/apps", create_app, methods=["POST"]),
    Route("/apps", get_apps, methods=["GET"]),
    Route("/apps/{app_id}", get_app, methods=["GET"]),
    Route("/apps/{app_id}", update_app, methods=["PATCH"]),
    Route("/apps/{app_id}", delete_app, methods=["DELETE"]),
]
