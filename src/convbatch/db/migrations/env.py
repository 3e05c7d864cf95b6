"""Alembic environment: always runs on a connection handed in by convbatch.db.migrate."""

from alembic import context

from convbatch.db.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `convbatch db upgrade`")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
