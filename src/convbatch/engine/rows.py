"""The engine's message rows as typed structures: what a claim hands out and what recording writes
back. Column lists are derived from the fields, so SQL and Python cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(slots=True)
class ClaimedMessage:
    """A message taken from the queue under our lease (``attempts`` already counts this try)."""

    id: str
    project_id: str
    app_id: str
    batch_id: str | None
    idx: int
    payload: str
    attempts: int
    channel: str | None
    reason_code: str | None
    due_at: int
    # Set when an at-most-once attempt started and no outcome was recorded: never send again.
    send_started_at: int | None = None

    @classmethod
    def from_row(cls, row: Any) -> ClaimedMessage:
        return cls(*row)


CLAIMED_COLUMNS = ", ".join(f.name for f in fields(ClaimedMessage))


@dataclass(slots=True)
class FinishedMessage:
    """A message's state after an attempt, written by ``queries.finish_messages``."""

    id: str
    state: str
    due_at: int
    attempts: int
    channel: str | None
    identity: str | None
    contact_id: str | None
    metadata: str | None
    reason_code: str | None
    reason_description: str | None
    delivery_status: str | None
    updated_at: int
    # Every finish drops the lease and any at-most-once attempt marker.
    lease_owner: None = None
    lease_until: None = None
    send_started_at: None = None

    def values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in FINISH_NAMES)


# PostgreSQL types of the written columns, for the unnest-based bulk update.
_SQL_TYPES = {"due_at": "bigint", "attempts": "integer", "updated_at": "bigint",
              "lease_until": "bigint", "send_started_at": "bigint"}  # fmt: skip
FINISH_NAMES = tuple(f.name for f in fields(FinishedMessage))
FINISH_COLUMNS = tuple((name, _SQL_TYPES.get(name, "text")) for name in FINISH_NAMES[1:])
