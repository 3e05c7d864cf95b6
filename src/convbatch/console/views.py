"""Turning stored rows into what the console's tables show: one recipient's identity, state
and receipt timeline, and a batch's summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec
from sqlalchemy.engine import Row

from convbatch.console.render import counts_of, message_text

_decode = msgspec.json.decode
NOT_SENT_YET = ("SCHEDULED", "QUEUED", "SENDING")


@dataclass
class Step:
    label: str
    at_ms: int | None  # None: expected, not yet happened


@dataclass
class Recipient:
    index: int
    message_id: str
    identity: str
    channel: str
    state: str
    reason: str
    text: str
    timeline: list[Step] = field(default_factory=list)


def _addressed_to(payload: str) -> tuple[str, str]:
    """(identity, channel) as the request addressed the recipient, before a channel is chosen."""
    try:
        recipient = _decode(payload).get("recipient", {})
    except (msgspec.DecodeError, AttributeError):
        return "", ""
    if "contact_id" in recipient:
        return f"contact {recipient['contact_id']}", ""
    identities = recipient.get("identified_by", {}).get("channel_identities", [])
    if not identities:
        return "", ""
    return str(identities[0].get("identity", "")), str(identities[0].get("channel", ""))


def _state(row: Row) -> str:
    if row.state == "SENT" and row.delivery_status:
        return str(row.delivery_status)
    return str(row.state)


def _timeline(row: Row) -> list[Step]:
    steps = [Step("Accepted", row.created_at)]
    if row.received_at is not None:
        steps.append(Step("On channel", row.received_at))
    if row.state not in NOT_SENT_YET:
        latest = _state(row)
        # A bare SENT says no more than the channel's own arrival time, where there is one.
        if latest != "SENT" or row.received_at is None:
            steps.append(Step(latest, row.updated_at))
    for planned in _decode(row.receipt_plan or "[]"):
        steps.append(Step(str(planned[0]), None))
    return steps


def recipient_of(row: Row) -> Recipient:
    addressed, addressed_channel = _addressed_to(row.payload)
    reason = row.reason_code or ""
    if row.reason_description:
        reason = f"{reason}: {row.reason_description}" if reason else row.reason_description
    return Recipient(
        index=row.idx, message_id=row.id, identity=row.identity or addressed,
        channel=row.channel or addressed_channel, state=_state(row), reason=reason,
        text=message_text(row.body), timeline=_timeline(row),
    )  # fmt: skip


@dataclass
class BatchSummary:
    id: str
    app_id: str | None
    status: str
    counts: dict[str, int]
    metadata: dict[str, str]
    created_at: int
    send_after: int | None
    template: str = ""


def summary_of(row: Row) -> BatchSummary:
    template = ""
    request: Any = getattr(row, "request", None)
    if request:
        template = message_text(msgspec.json.encode(_decode(request).get("message", {})).decode())
    return BatchSummary(
        id=row.id, app_id=row.app_id, status=row.status, counts=counts_of(row),
        metadata=_decode(row.metadata), created_at=row.created_at, send_after=row.send_after,
        template=template,
    )  # fmt: skip
