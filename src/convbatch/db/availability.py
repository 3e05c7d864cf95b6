"""Telling "the database is unreachable right now" apart from every other error, so the API can
answer 503 with Retry-After (the client should try again) instead of 500 (a bug of ours)."""

from __future__ import annotations

import asyncpg
from sqlalchemy.exc import DBAPIError, InterfaceError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

RETRY_AFTER_S = 5

_UNREACHABLE = (
    OSError,  # refused, reset, no route: the server is down or restarting
    TimeoutError,
    PoolTimeout,
    InterfaceError,
    asyncpg.exceptions.PostgresConnectionError,  # closed, admin shutdown, cannot connect now
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.InterfaceError,
)


# Every error class a database call may raise, for the API's exception handlers.
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    SQLAlchemyError, asyncpg.exceptions.PostgresError, asyncpg.exceptions.InterfaceError,
    OSError, TimeoutError,
)  # fmt: skip


def is_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps) means the database cannot be reached."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, _UNREACHABLE):
            return True
        if isinstance(current, DBAPIError) and current.orig is not None:
            current = current.orig
            continue
        current = current.__cause__ or current.__context__
    return False
