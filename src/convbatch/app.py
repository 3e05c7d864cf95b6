"""Application factory: one Starlette app serving every surface on one port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette

from convbatch.api.errors import EXCEPTION_HANDLERS
from convbatch.clock import Clock, SystemClock
from convbatch.config import Settings
from convbatch.db.engine import Database
from convbatch.db.migrate import upgrade
from convbatch.engine.runner import running_engine
from convbatch.logs import configure_logging
from convbatch.routes import routes
from convbatch.runtime import tune_gc
from convbatch.services import Services


def create_app(
    settings: Settings, clock: Clock | None = None, migrate: bool = True, engine: bool = True
) -> Starlette:
    """Build the ASGI app. The database is opened (and migrated) when the app starts; with
    ``engine`` the dispatch engine runs in the same process (the embedded default)."""
    configure_logging(settings.log_level)

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
