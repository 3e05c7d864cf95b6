"""Application factory: one Starlette app serving every surface on one port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from convbatch.api.auth import token_endpoint
from convbatch.api.docs import docs_page, openapi_endpoint
from convbatch.api.errors import EXCEPTION_HANDLERS
from convbatch.api.wire import json_response
from convbatch.batches.endpoints import routes as batch_message_routes
from convbatch.clock import Clock, SystemClock
from convbatch.config import Settings
from convbatch.conversation.routes import routes as conversation_routes
from convbatch.db.engine import Database
from convbatch.db.migrate import upgrade
from convbatch.engine.runner import running_engine
from convbatch.jobs.endpoints import routes as batch_job_routes
from convbatch.runtime import tune_gc
from convbatch.services import Services, services_of


async def healthz(request: Request) -> Response:
    services = services_of(request)
    async with services.db.read() as conn:
        await conn.exec_driver_sql("SELECT 1")
    return json_response({"status": "ok", "database": services.db.dialect})


def create_app(
    settings: Settings, clock: Clock | None = None, migrate: bool = True, engine: bool = True
) -> Starlette:
    """Build the ASGI app. The database is opened (and migrated) when the app starts; with
    ``engine`` the dispatch engine runs in the same process (the embedded default)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = Database(settings.database_url)
        try:
            if migrate:
                await upgrade(db)
            services = await Services.start(settings, db, clock or SystemClock())
            app.state.services = services
            async with running_engine(services, enabled=engine):
                yield
        finally:
            await db.dispose()

    routes = [
        Route("/oauth2/token", token_endpoint, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/openapi.json", openapi_endpoint, methods=["GET"]),
        Route("/docs", docs_page, methods=["GET"]),
        Mount("/v1/projects/{project_id}", routes=[*batch_message_routes, *batch_job_routes]),
        Mount("/conversation/v1/projects/{project_id}", routes=conversation_routes),
    ]
    return Starlette(
        routes=routes,
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )


def api_only_from_env() -> Starlette:
    """Factory for multi-process API serving: settings from CONVBATCH_* variables, no engine."""
    application = create_app(Settings.from_env(), engine=False)
    tune_gc()
    return application
