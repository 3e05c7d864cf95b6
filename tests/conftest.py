"""Fixtures: every store-level test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from convbatch.config import Settings
from tests.support import LOOPBACK_ALLOW, TEST_SECRET_KEY, Api, DatabaseFactory, running_api

# The suite's webhook receivers and upstreams listen on loopback, which the server refuses to
# reach unless the operator opens it; tests/security runs its servers without this.
os.environ.setdefault("CONVBATCH_OUTBOUND_ALLOW", LOOPBACK_ALLOW)
os.environ.setdefault("CONVBATCH_SECRET_KEY", TEST_SECRET_KEY)


@pytest.fixture(scope="session")
async def database_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("databases"))
    yield factory
    await factory.drop_all()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(
    request: pytest.FixtureRequest, database_factory: DatabaseFactory, tmp_path: Path
) -> str:
    if request.param == "sqlite":
        return await database_factory.sqlite(tmp_path / "test.db")
    return await database_factory.postgresql()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url)


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with running_api(settings) as running:
        yield running
