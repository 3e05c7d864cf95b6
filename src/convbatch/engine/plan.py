"""The decision for one claimed message, as a pure function of the facts loaded for it: render,
resolve the recipient to channels, check TTL and consent, and either build the outbound message
or fail it without sending. No I/O here; ``engine.prepare`` loads the facts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from convbatch.batches.render import merge_metadata, missing_description
from convbatch.batches.schemas import BatchOptions, RecipientAndParam
from convbatch.channels.base import Outbound, SendResult
from convbatch.engine.context import BatchContext
from convbatch.engine.rows import ClaimedMessage

_decode_item = msgspec.json.Decoder(RecipientAndParam).decode
_encode = msgspec.json.Encoder().encode
SWITCHING = "SWITCHING_CHANNEL"  # reason_code marking a message moved on to its next channel

Candidate = tuple[str, str]  # (channel, identity)
# Why an at-most-once message whose attempt started before a crash is failed instead of resent.
LOST_ATTEMPT = (
    "the outcome of an attempt was lost in a crash; the channel is at_most_once, so the message "
    "is not sent again"
)


class ChannelIdentity(msgspec.Struct):
    channel: str
    identity: str


class ContactDoc(msgspec.Struct):
    channel_identities: list[ChannelIdentity] = []
    channel_priority: list[str] = []


@dataclass(slots=True)
class Decision:
    """What to do with one claimed message: send ``outbound`` or finish with ``failure``."""

    row: ClaimedMessage
    ctx: BatchContext
    metadata: str
    contact_id: str | None
    candidates: list[Candidate]  # in order; the outbound's channel is one of them
    outbound: Outbound | None = None
    failure: tuple[str, str, str] | None = None  # (state, reason code, description)
    channel: str | None = None
    identity: str | None = None
    deferred_to: int | None = None  # rate limited: back in the queue, due then
    result: SendResult | None = None
    lease_until: int = 0  # when the claim's lease ends unless renewed
    released: bool = False  # not sent after all (stopping, lease too short): back to the queue
    started_ms: int | None = None  # when its lane began the attempt


def candidates_for(
    item: RecipientAndParam, contact: ContactDoc | None, ctx: BatchContext,
    configured: frozenset[str],
) -> list[Candidate]:  # fmt: skip
    if item.recipient.identified_by is not None:
        ids = item.recipient.identified_by.channel_identities
        found: list[Candidate] = [(str(c.channel), c.identity) for c in ids]
    elif contact is not None:
        found = [(c.channel, c.identity) for c in contact.channel_identities]
        rank = {ch: i for i, ch in enumerate(contact.channel_priority)}
        found.sort(key=lambda c: rank.get(c[0], len(rank)))
    else:
        return []
    order = ctx.options.channel_priority_order
    if order:
        rank = {ch: i for i, ch in enumerate(order)}
        found = sorted((c for c in found if c[0] in rank), key=lambda c: rank[c[0]])
    return [c for c in found if c[0] in configured]


def blocked_by_consent(lists: set[str], content_type: str | None) -> bool:
    if "OPT_OUT_ALL" in lists:
        return True
    if content_type == "CONTENT_MARKETING":
        return "OPT_OUT_MARKETING" in lists
    return content_type == "CONTENT_NOTIFICATION" and "OPT_OUT_NOTIFICATION" in lists


def pick_candidate(row: ClaimedMessage, candidates: Sequence[Candidate]) -> int | None:
    """Index of the candidate to try now: the same channel on a retry, the next after a switch."""
    if not candidates:
        return None
    channels = [c[0] for c in candidates]
    if row.channel in channels:
        position = channels.index(row.channel)
        if row.reason_code == SWITCHING:
            position += 1
        return position if position < len(candidates) else None
    return 0


def unknown_app(row: ClaimedMessage, ctx: BatchContext) -> Decision:
    decision = Decision(row, ctx, "{}", None, [])
    decision.failure = ("FAILED", "UNKNOWN_APP", f"app {row.app_id} no longer exists")
    return decision


def decode_item(row: ClaimedMessage) -> RecipientAndParam:
    return _decode_item(row.payload)


def identities_to_check(item: RecipientAndParam, contact: ContactDoc | None) -> set[str]:
    """Every identity (and the contact id) a consent record could name for this recipient."""
    found = {item.recipient.contact_id} if item.recipient.contact_id else set()
    if item.recipient.identified_by is not None:
        found.update(c.identity for c in item.recipient.identified_by.channel_identities)
    if contact is not None:
        found.update(c.identity for c in contact.channel_identities)
    return found


def _metadata(
    options: BatchOptions, item: RecipientAndParam, batch_id: str
) -> tuple[str, dict[str, Any]]:
    """The message metadata (a JSON string) and conversation metadata to send: a single send's
    as its caller gave them, a batch item's merged with the batch's plus ``_batch_id``."""
    if options.single_message_metadata is not None:
        return options.single_message_metadata, options.single_conversation_metadata or {}
    message = merge_metadata(options.message_metadata, item.message_metadata, batch_id)
    conversation = merge_metadata(
        options.conversation_metadata, item.conversation_metadata, batch_id
    )
    return _encode(message).decode(), conversation


def decide(
    row: ClaimedMessage, item: RecipientAndParam, ctx: BatchContext, configured: frozenset[str],
    contacts_by_id: dict[str, ContactDoc], opt_outs: dict[str, set[str]], now_ms: int,
) -> Decision:  # fmt: skip
    options = ctx.options
    metadata, conversation_metadata = _metadata(options, item, ctx.batch_id)
    contact_id = item.recipient.contact_id
    decision = Decision(row, ctx, metadata, contact_id, [])
    if row.send_started_at is not None:
        decision.failure = ("FAILED", "UNKNOWN", LOST_ATTEMPT)
        return decision
    if ctx.ttl_ms is not None and now_ms > ctx.starts_at_ms + ctx.ttl_ms:
        decision.failure = (
            "EXPIRED",
            "DELIVERY_TIMED_OUT",
            "the message's ttl passed before it could be sent",
        )
        return decision
    rendered = ctx.template.render(item.parameters, options.parameter_defaults)
    if isinstance(rendered, list):
        decision.failure = ("FAILED", "BAD_REQUEST", missing_description(rendered))
        return decision
    contact = contacts_by_id.get(contact_id) if contact_id else None
    if contact_id and contact is None:
        decision.failure = ("FAILED", "CONTACT_NOT_FOUND", f"contact {contact_id} does not exist")
        return decision
    decision.candidates = candidates_for(item, contact, ctx, configured)
    position = pick_candidate(row, decision.candidates)
    if position is None:
        decision.failure = (
            "FAILED",
            "NO_CHANNELS_LEFT",
            "no channel of the recipient is usable on this app",
        )
        return decision
    channel, identity = decision.candidates[position]
    decision.channel, decision.identity = channel, identity
    lists = opt_outs.get(identity, set()) | (
        opt_outs.get(contact_id, set()) if contact_id else set()
    )
    if lists and blocked_by_consent(lists, options.message_content_type):
        decision.failure = ("FAILED", "RECIPIENT_NOT_OPTED_IN", f"{identity} has opted out")
        return decision
    decision.outbound = Outbound(
        message_id=row.id, project_id=row.project_id, app_id=row.app_id, batch_id=row.batch_id,
        index=row.idx, channel=channel, identity=identity, message=rendered,
        metadata=metadata, attempt=row.attempts, contact_id=contact_id,
        conversation_metadata=conversation_metadata, correlation_id=options.correlation_id,
        ttl=options.ttl, channel_properties=options.channel_properties,
        callback_url=options.callback_url, processing_strategy=options.processing_strategy,
        message_content_type=options.message_content_type,
    )  # fmt: skip
    return decision
