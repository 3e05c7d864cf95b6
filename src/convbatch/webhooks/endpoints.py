"""HTTP endpoints of the Conversation API's /webhooks resource."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from convbatch.api.auth import authenticated
from convbatch.api.patch import update_mask
from convbatch.api.wire import decode_json, json_response
from convbatch.apps.service import require_app
from convbatch.secrets.sealing import masked_webhook
from convbatch.services import services_of
from convbatch.webhooks import service
from convbatch.webhooks.repository import webhooks_of_app
from convbatch.webhooks.schemas import WebhookCreateRequest, WebhookList, WebhookPatch


@authenticated
async def create_webhook(request: Request, project_id: str) -> Response:
    req = await decode_json(request, WebhookCreateRequest)
    services = services_of(request)
    async with services.db.transaction() as conn:
        webhook = await service.create_webhook(conn, project_id, req, services.now_ms())
    return json_response(masked_webhook(webhook))


@authenticated
async def list_app_webhooks(request: Request, project_id: str) -> Response:
    app_id = request.path_params["app_id"]
    async with services_of(request).db.read() as conn:
        await require_app(conn, project_id, app_id)
        found = await webhooks_of_app(conn, project_id, app_id)
    return json_response(WebhookList([masked_webhook(w) for w in found]))


@authenticated
async def get_webhook(request: Request, project_id: str) -> Response:
    async with services_of(request).db.read() as conn:
        webhook = await service.require_webhook(conn, project_id, request.path_params["webhook_id"])
    return json_response(masked_webhook(webhook))


@authenticated
async def update_webhook(request: Request, project_id: str) -> Response:
    mask = update_mask(request, service.UPDATABLE)
    patch = await decode_json(request, WebhookPatch)
    async with services_of(request).db.transaction() as conn:
        webhook = await service.update_webhook(
            conn, project_id, request.path_params["webhook_id"], patch, mask
        )
    return json_response(masked_webhook(webhook))


@authenticated
async def delete_webhook(request: Request, project_id: str) -> Response:
    async with services_of(request).db.transaction() as conn:
        await service.delete_webhook(conn, project_id, request.path_params["webhook_id"])
    return json_response({})


routes = [
    Route("/webhooks", create_webhook, methods=["POST"]),
    Route("/apps/{app_id}/webhooks", list_app_webhooks, methods=["GET"]),
    Route("/webhooks/{webhook_id}", get_webhook, methods=["GET"]),
    Route("/webhooks/{webhook_id}", update_webhook, methods=["PATCH"]),
    Route("/webhooks/{webhook_id}", delete_webhook, methods=["DELETE"]),
]
