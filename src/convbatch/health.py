"""GET /healthz: the process answers and its database does."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from convbatch.api.wire import json_response
from convbatch.db.availability import RETRY_AFTER_S, is_unreachable
from convbatch.services import services_of


async def healthz(request: Request) -> Response:
    services = services_of(request)
    try:
        async with services.db.read() as conn:
            await conn.exec_driver_sql("SELECT 1")
    except Exception as exc:
        if not is_unreachable(exc):
            raise
        response = json_response({"status": "unavailable", "database": services.db.dialect}, 503)
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response
    return json_response({"status": "ok", "database": services.db.dialect})
