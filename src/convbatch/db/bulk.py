"""Bulk insert of many rows in the caller's transaction: COPY on PostgreSQL, executemany on SQLite.

Both skip SQLAlchemy's per-row parameter processing, which dominates the cost at 1000 rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")


IDS_PER_STATEMENT = 1000  # bound parameters per statement are limited on both databases


def chunked(values: Sequence[T], size: int = IDS_PER_STATEMENT) -> Iterator[Sequence[T]]:
    """``values`` in slices of at most ``size``, for ``IN (...)`` lists."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


async def asyncpg_in_transaction(conn: AsyncConnection) -> Any:
    """The asyncpg connection under ``conn``, with the caller's transaction really open.

    SQLAlchemy's asyncpg adapter opens the database transaction lazily, at its first statement;
    a statement sent straight to the driver before that would run in autocommit, outside the
    caller's transaction, and survive its rollback."""
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    if not driver.is_in_transaction():
        await conn.exec_driver_sql("SELECT 1")
    return driver


async def insert_rows(
    conn: AsyncConnection, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert ``rows`` (tuples ordered like ``columns``) into ``table``."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        driver = await asyncpg_in_transaction(conn)
        await driver.copy_records_to_table(table.name, records=rows, columns=list(columns))
        return
    marks = ", ".join("?" for _ in columns)
    names = ", ".join(f'"{c}"' for c in columns)
    await conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', rows)


async def update_rows(
    conn: AsyncConnection,
    table: str,
    key: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[tuple[Any, ...]],
    guard: Sequence[tuple[str, Any]] = (),
) -> None:
    """Set ``columns`` (name, PostgreSQL type) on many rows, each tuple being (key, *values),
    where each ``guard`` column still holds its value (rows that do not are left alone).

    PostgreSQL gets one statement joining the table to unnested arrays; SQLite, whose statements
    run in-process, gets a plain executemany."""
    if not rows:
        return
    names = [name for name, _ in columns]
    if conn.dialect.name == "postgresql":
        types = ["text", *(kind for _, kind in columns)]
        arrays = ", ".join(f"${i + 1}::{kind}[]" for i, kind in enumerate(types))
        sets = ", ".join(f'"{n}" = v."{n}"' for n in names)
        checks = "".join(
            f' AND t."{name}" = ${len(types) + i + 1}' for i, (name, _) in enumerate(guard)
        )
        sql = (
            f'UPDATE "{table}" AS t SET {sets} FROM unnest({arrays}) '
            f'AS v("{key}", {", ".join(chr(34) + n + chr(34) for n in names)}) '
            f'WHERE t."{key}" = v."{key}"{checks}'
        )
        driver = await asyncpg_in_transaction(conn)
        columns_ = [list(col) for col in zip(*rows, strict=True)]
        await driver.execute(sql, *columns_, *(value for _, value in guard))
        return
    sets = ", ".join(f'"{n}" = ?' for n in names)
    checks = "".join(f' AND "{name}" = ?' for name, _ in guard)
    values = tuple(value for _, value in guard)
    await conn.exec_driver_sql(
        f'UPDATE "{table}" SET {sets} WHERE "{key}" = ?{checks}',
        [(*r[1:], r[0], *values) for r in rows],
    )
