"""Run Alembic migrations on a Database, safely when several processes start at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from convbatch.db.engine import Database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same in every convbatch process.
_MIGRATION_LOCK_KEY = 0x0C0B_BA7C


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision`` inside one transaction."""
    cfg = alembic_config()

    def _run(sync_conn: Any) -> None:
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, revision)

    async with db.transaction() as conn:
        if not db.is_sqlite:
            # SQLite is already serialised by BEGIN IMMEDIATE; PostgreSQL needs a lock.
            await conn.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_KEY})"))
        await conn.run_sync(_run)
