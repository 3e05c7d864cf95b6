"""Shared by the admin commands: run one piece of database work from a synchronous command."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from convbatch.config import Settings
from convbatch.db.engine import Database
from convbatch.db.migrate import upgrade
from convbatch.secrets.box import install_for

T = TypeVar("T")


def with_db(url: str | None, work: Callable[[Database], Awaitable[T]]) -> T:
    """Open the database (flag, else environment, else the default), migrate it, run ``work``,
    close it."""

    async def run() -> T:
        settings = Settings.from_env(database_url=url)
        db = Database(settings.database_url)
        install_for(settings.database_url, settings.secret_key, settings.secret_key_file)
        try:
            await upgrade(db)
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(run())
