"""Extension endpoints (Conversation mount): an app's webhook deliveries with their attempts,
and re-driving the ones that gave up."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from convbatch.api.auth import authenticated
from convbatch.api.paging import decode_token, encode_token, page_size
from convbatch.api.wire import decode_json, json_response
from convbatch.apps.service import require_app
from convbatch.callbacks.attempts import list_deliveries, redrive
from convbatch.callbacks.policy import STATES
from convbatch.callbacks.schemas import DeliveryList, RedriveRequest, RedriveResult
from convbatch.errors import InvalidArgument
from convbatch.services import services_of

TOKEN_KIND = "webhook-deliveries"
DEFAULT_PAGE, MAX_PAGE = 50, 200


@authenticated
async def list_app_deliveries(request: Request, project_id: str) -> Response:
    app_id = request.path_params["app_id"]
    params = request.query_params
    state = params.get("state") or None
    if state is not None and state not in STATES:
        raise InvalidArgument.field("state", f"must be one of {', '.join(STATES)}")
    size = page_size(params.get("page_size"), DEFAULT_PAGE, MAX_PAGE)
    after = decode_token(params.get("page_token"), TOKEN_KIND, 1)
    async with services_of(request).db.read() as conn:
        await require_app(conn, project_id, app_id)
        found, last = await list_deliveries(
            conn, project_id, app_id, state, size, str(after[0]) if after else None
        )
    token = encode_token(TOKEN_KIND, [last]) if last else ""
    return json_response(DeliveryList(found, token))


@authenticated
async def redrive_app_deliveries(request: Request, project_id: str) -> Response:
    app_id = request.path_params["app_id"]
    req = await decode_json(request, RedriveRequest)
    services = services_of(request)
    async with services.db.transaction() as conn:
        await require_app(conn, project_id, app_id)
        ids = await redrive(conn, project_id, app_id, req.delivery_ids, services.now_ms())
    return json_response(RedriveResult(ids))


routes = [
    Route("/apps/{app_id}/webhook-deliveries", list_app_deliveries, methods=["GET"]),
    Route("/apps/{app_id}/webhook-deliveries:redrive", redrive_app_deliveries, methods=["POST"]),
]
