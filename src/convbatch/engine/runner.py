"""Starting and stopping the engine beside other work in one event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from convbatch.engine.worker import Engine
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
