"""Starting and stopping the engine beside other work in one event loop."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from convbatch.clock import SystemClock
from convbatch.config import Settings
from convbatch.db.engine import Database
from convbatch.db.migrate import upgrade
from convbatch.engine.worker import Engine
from convbatch.logs import configure_logging
from convbatch.services import Services


@asynccontextmanager
async def running_engine(services: Services, enabled: bool = True) -> AsyncIterator[Engine | None]:
    """Run the engine for the duration of the block; on exit drain it gracefully."""
    if not enabled:
        yield None
        return
    engine = Engine(services)
    task = asyncio.create_task(engine.run(), name="engine")
    try:
        yield engine
    finally:
        engine.stop()
        await task


async def run_worker(settings: Settings) -> None:
    """The ``convbatch worker`` process: the engine until SIGTERM or SIGINT, then a drain."""
    configure_logging(settings.log_level)
    db = Database(settings.database_url)
    try:
        await upgrade(db)
        services = await Services.start(settings, db, SystemClock())
        engine = Engine(services)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, engine.stop)
        await engine.run()
    finally:
        await db.dispose()
