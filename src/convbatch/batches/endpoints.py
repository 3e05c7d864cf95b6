"""HTTP endpoints of the Batch API's /messages resource."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from convbatch import metrics
from convbatch.api.auth import authenticated
from convbatch.api.wire import decode_json, decode_json_body, json_response, read_json_body
from convbatch.batches import service
from convbatch.batches.schemas import SendBatchRequest, SendBatchResponse, cancel_request_from
from convbatch.db.wakeup import notify
from convbatch.services import services_of


@authenticated
async def send_batch(request: Request, project_id: str) -> Response:
    services = services_of(request)
    # The body is read first, outside the slots below: a client uploading slowly holds nothing.
    body = await read_json_body(request)
    # Decoding and preparing 1000 recipients is the CPU-heavy part of the API: a few at a time,
    # so short requests (status reads) wait behind at most that many, not behind every send.
    async with services.heavy_requests:
        req = decode_json_body(body, SendBatchRequest)
        async with services.db.read() as conn:
            prepared = await service.prepare_batch(conn, project_id, req, services.clock.now())

    async def store(conn: AsyncConnection) -> SendBatchResponse:
        stored = await service.store_batch(conn, prepared, services.clock.now())
        await notify(conn)
        return stored

    result = await services.group.run(store)
    services.wakeup.set()
    metrics.messages_accepted(len(req.recipient_and_params))
    structlog.contextvars.bind_contextvars(batch_id=result.batch_id)  # for the request's log line
    return json_response(result)


@authenticated
async def cancel_batches(request: Request, project_id: str) -> Response:
    # Any JSON answers 200; only a body that is not JSON at all is refused.
    req = cancel_request_from(await decode_json(request, Any))
    services = services_of(request)
    async with services.db.transaction() as conn:
        await service.cancel(conn, project_id, req, services.now_ms())
    return json_response({})


@authenticated
async def get_batch(request: Request, project_id: str) -> Response:
    services = services_of(request)
    async with services.db.read() as conn:
        status = await service.get_status(conn, project_id, request.path_params["batch_id"])
    return json_response(status)


@authenticated
async def list_batches(request: Request, project_id: str) -> Response:
    params = request.query_params
    services = services_of(request)
    async with services.db.read() as conn:
        found = await service.list_by_metadata(
            conn, project_id, params.get("metadataKey"), params.get("metadataValue")
        )
    return json_response(found)


async def messages_collection(request: Request) -> Response:
    handlers = {"POST": send_batch, "DELETE": cancel_batches, "GET": list_batches}
    return await handlers[request.method](request)


routes = [
    Route("/messages", messages_collection, methods=["POST", "DELETE", "GET"]),
    Route("/messages/{batch_id}", get_batch, methods=["GET"]),
]
