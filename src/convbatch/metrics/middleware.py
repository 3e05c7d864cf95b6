"""Counts and times every HTTP request by its route template (``/v1/projects/{project_id}/
messages``, never the concrete path, so ids do not multiply the series). Requests that match no
route are counted under ``unmatched``."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence

from starlette.routing import BaseRoute, Mount, Route, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from convbatch.metrics.record import api_request

UNMATCHED = "unmatched"
ROUTE_KEY = "convbatch.route"  # the template, left in the scope for the request log line


def flatten(routes: Sequence[BaseRoute], prefix: str = "") -> list[tuple[re.Pattern[str], str]]:
    """(regex, template) for every route, mounts expanded; a mounted app (static files) is one
    template ending in ``{path}``."""
    found: list[tuple[re.Pattern[str], str]] = []
    for route in routes:
        if isinstance(route, Mount):
            inner = route.routes
            if inner:
                found += flatten(inner, prefix + route.path)
            else:
                regex, template, _ = compile_path(prefix + route.path + "/{path:path}")
                found.append((regex, template))
        elif isinstance(route, Route):
            regex, template, _ = compile_path(prefix + route.path)
            found.append((regex, template))
    return found


class RequestMetrics:
    """Pure ASGI middleware (no per-request objects beyond a closure)."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.templates = flatten(routes)

    def template(self, path: str) -> str:
        for regex, template in self.templates:
            if regex.match(path):
                return template
        return UNMATCHED

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500  # what the client sees if the app raises before answering

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            seconds = time.perf_counter() - began
            route = scope[ROUTE_KEY] = self.template(scope["path"])
            api_request(scope["method"], route, status, seconds)
