"""Counts and times every HTTP request by its route template (``/v1/projects/{project_id}/
messages``, never the concrete path, so ids do not multiply the series). Requests that match no
route are counted under ``unmatched``.

Starlette leaves the route that answered in the scope; a table built once maps each route
object to its full template (mount prefixes included), so a request costs one dict lookup."""

from __future__ import annotations

import time
from collections.abc import Sequence

from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from convbatch.metrics.record import api_request

UNMATCHED = "unmatched"
ROUTE_KEY = "convbatch.route"  # the template, left in the scope for the request log line


def templates(routes: Sequence[BaseRoute], prefix: str = "") -> dict[int, str]:
    """id(route) → full template, for every route that answers a request itself: endpoints,
    and mounted apps (static files) whose template ends in ``{path}``."""
    found: dict[int, str] = {}
    for route in routes:
        if isinstance(route, Mount):
            if route.routes:
                found.update(templates(route.routes, prefix + route.path))
            else:
                found[id(route)] = prefix + route.path + "/{path}"
        elif isinstance(route, Route):
            found[id(route)] = prefix + route.path
    return found


class RequestMetrics:
    """Pure ASGI middleware (no per-request objects beyond a closure)."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.templates = templates(routes)

    def template(self, scope: Scope) -> str:
        route = scope.get("route")
        return self.templates.get(id(route), UNMATCHED) if route is not None else UNMATCHED

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
            route = scope[ROUTE_KEY] = self.template(scope)
            api_request(scope["method"], route, status, seconds)
