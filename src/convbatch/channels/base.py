"""The driver contract. A driver takes a batch of rendered messages and says, per message, whether
the channel accepted it, wants it retried later, or refused it for good. Receipts that arrive later
go through ``convbatch.engine.receipts``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Outcome = Literal["accepted", "retry", "failed"]


@dataclass(slots=True)
class Outbound:
    """One message as a channel gets it. ``message_id`` doubles as the idempotency key."""

    message_id: str
    project_id: str
    app_id: str
    batch_id: str | None
    index: int
    channel: str
    identity: str
    message: dict[str, Any]  # the rendered AppMessage
    metadata: str  # merged message metadata as a JSON string
    attempt: int
    contact_id: str | None = None
    conversation_metadata: dict[str, str] = field(default_factory=dict)
    correlation_id: str | None = None
    ttl: str | None = None
    channel_properties: dict[str, str] | None = None
    callback_url: str | None = None
    processing_strategy: str = "DEFAULT"
    message_content_type: str | None = None


@dataclass(slots=True)
class SendResult:
    message_id: str
    outcome: Outcome
    reason_code: str | None = None
    description: str | None = None
    # Receipts the channel gave with its answer, in order: (status, reason code or None). They
    # are recorded with the send itself, saving a separate receipt round trip.
    receipts: list[tuple[str, str | None]] = field(default_factory=list)


def accepted(message_id: str) -> SendResult:
    return SendResult(message_id, "accepted")


def retry(message_id: str, description: str) -> SendResult:
    return SendResult(message_id, "retry", "RATE_LIMITED", description)


def failed(message_id: str, code: str, description: str) -> SendResult:
    return SendResult(message_id, "failed", code, description)


class Driver(Protocol):
    """What the engine needs from a channel driver."""

    name: str
    window: int  # messages in flight at once on one app channel (the lane's window)
    batch_size: int  # messages per send() call
    deadline_s: float  # a send() call taking longer has an unknown outcome

    async def send(self, messages: Sequence[Outbound]) -> list[SendResult]:
        """One result per message, in any order. Raising means "retry all of them later"."""
        ...

    async def aclose(self) -> None: ...
