"""Gives every HTTP request an id (the caller's ``X-Request-Id`` when it is a sane token, else a
new one), echoes it in the answer, binds it to every log line written while the request runs,
and writes one line per request: method, path, route, status, duration, and the project and
batch ids when the request names them. Never headers, bodies or query strings."""

from __future__ import annotations

import re
import secrets
import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from convbatch.logs import setup
from convbatch.metrics.middleware import ROUTE_KEY

log = structlog.get_logger("convbatch.request")
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            given = value.decode("latin-1")
            if _SANE_ID.fullmatch(given):
                return given
    return secrets.token_hex(8)


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(scope)
        began = time.perf_counter()
        status = 500
        header = (b"x-request-id", rid.encode())

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=rid):
            try:
                await self.app(scope, receive, sending)
            finally:
                self._line(scope, status, time.perf_counter() - began)

    @staticmethod
    def _line(scope: Scope, status: int, seconds: float) -> None:
        if setup.request_level is None:
            return
        params = scope.get("path_params") or {}
        ids = {k: params[k] for k in ("project_id", "batch_id", "app_id") if k in params}
        log.log(
            setup.request_level, "request", method=scope["method"], path=scope["path"],
            route=scope.get(ROUTE_KEY), status=status, duration_ms=round(seconds * 1000, 2),
            **ids,
        )  # fmt: skip
