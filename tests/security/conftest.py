"""Security tests run their own server processes on SQLite (one file per test)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import DatabaseFactory


@pytest.fixture
async def sqlite_url(database_factory: DatabaseFactory, tmp_path: Path) -> str:
    return await database_factory.sqlite(tmp_path / "security.db")
