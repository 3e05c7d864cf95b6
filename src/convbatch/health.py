"""GET /healthz: the process answers and its database does."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from convbatch.api.wire import json_response
from convbatch.services import services_of


async def healthz(request: Request) -> Response:
    services = services_of(request)
    async with services.db.read() as conn:
        await conn.exec_driver_sql("SELECT 1")
    return json_response({"status": "ok", "database": services.db.dialect})
