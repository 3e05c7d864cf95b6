"""Regenerate the initial migration from db/tables.py (only while no release has shipped it)."""

from pathlib import Path
from tempfile import TemporaryDirectory

from alembic import command
from sqlalchemy import create_engine

from convbatch.db.migrate import MIGRATIONS_DIR, alembic_config

for old in (MIGRATIONS_DIR / "versions").glob("0001_*.py"):
    old.unlink()
with TemporaryDirectory() as tmp:
    engine = create_engine(f"sqlite:///{Path(tmp) / 'gen.db'}")
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")
