"""The engine's pure parts: the decision for one message, what an outcome does to it, and the rows
and counters a round records. No database: the facts are built here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.batches.render import Template
from convbatch.batches.schemas import BatchOptions
from convbatch.callbacks.outbox import Outbox
from convbatch.channels.base import SendResult
from convbatch.engine import plan
from convbatch.engine.context import BatchContext
from convbatch.engine.outcome import apply_outcome
from convbatch.engine.ratelimit import RATE_SLOT
from convbatch.engine.record import RoundRecord
from convbatch.engine.retry import RetryPolicy
from convbatch.engine.rows import FINISH_COLUMNS, FINISH_NAMES, ClaimedMessage

NOW_MS = 1_800_000_000_000
SMS_AND_WA = frozenset({"SMS", "WHATSAPP"})


def context(**options: Any) -> BatchContext:
    message = {"text_message": {"text": "Hi ${name}"}}
    opts = msgspec.convert({"message": message, **options}, BatchOptions)
    ttl = int(opts.ttl[:-1]) * 1000 if opts.ttl else None
    return BatchContext("B1", "P1", "A1", opts, Template.compile(message), NOW_MS - 1000, ttl)


def claimed(recipient: dict[str, Any], params: dict[str, str] | None = None,
            **fields: Any) -> ClaimedMessage:  # fmt: skip
    payload = msgspec.json.encode({"recipient": recipient, "parameters": params or {}}).decode()
    row = ClaimedMessage("M1", "P1", "A1", "B1", 0, payload, 1, None, None, NOW_MS)
    for name, value in fields.items():
        setattr(row, name, value)
    return row


def identities(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"identified_by": {"channel_identities": [
        {"channel": c, "identity": i} for c, i in pairs]}}  # fmt: skip


def decide(row: ClaimedMessage, ctx: BatchContext | None = None,
           opt_outs: dict[str, set[str]] | None = None,
           contacts: dict[str, plan.ContactDoc] | None = None) -> plan.Decision:  # fmt: skip
    return plan.decide(row, plan.decode_item(row), ctx or context(), SMS_AND_WA,
                       contacts or {}, opt_outs or {}, NOW_MS)  # fmt: skip


# --- the decision ---------------------------------------------------------------------------


def test_renders_and_picks_the_first_configured_channel():
    row = claimed(identities(("RCS", "+1"), ("SMS", "+2"), ("WHATSAPP", "+3")), {"name": "Ada"})
    d = decide(row)
    assert d.failure is None and d.outbound is not None
    assert (d.channel, d.identity) == ("SMS", "+2")  # RCS is not configured on the app
    assert d.outbound.message == {"text_message": {"text": "Hi Ada"}}
    assert d.candidates == [("SMS", "+2"), ("WHATSAPP", "+3")]


def test_after_a_switch_the_next_channel_is_tried_and_then_none_is_left():
    pairs = (("WHATSAPP", "+3"), ("SMS", "+2"))
    d = decide(claimed(identities(*pairs), {"name": "x"}, channel="WHATSAPP",
                       reason_code=plan.SWITCHING))  # fmt: skip
    assert d.channel == "SMS"
    d = decide(claimed(identities(*pairs), {"name": "x"}, channel="SMS",
                       reason_code=plan.SWITCHING))  # fmt: skip
    assert d.failure is not None and d.failure[1] == "NO_CHANNELS_LEFT"


def test_missing_parameter_fails_alone_and_names_it():
    d = decide(claimed(identities(("SMS", "+2"))))
    assert d.failure is not None and d.failure[:2] == ("FAILED", "BAD_REQUEST")
    assert "name" in d.failure[2]


def test_ttl_passed_expires_without_sending():
    d = decide(claimed(identities(("SMS", "+2")), {"name": "x"}), context(ttl="0s"))
    assert d.failure is not None and d.failure[:2] == ("EXPIRED", "DELIVERY_TIMED_OUT")
    assert d.outbound is None


def test_opt_outs_block_by_content_type():
    row = claimed(identities(("SMS", "+2")), {"name": "x"})
    blocked = decide(row, opt_outs={"+2": {"OPT_OUT_ALL"}})
    assert blocked.failure is not None and blocked.failure[1] == "RECIPIENT_NOT_OPTED_IN"
    marketing_only = {"+2": {"OPT_OUT_MARKETING"}}
    assert decide(row, opt_outs=marketing_only).failure is None
    marketing = context(message_content_type="CONTENT_MARKETING")
    assert decide(row, marketing, opt_outs=marketing_only).failure is not None


def test_contact_recipient_uses_its_channel_priority():
    doc = plan.ContactDoc(
        channel_identities=[plan.ChannelIdentity("SMS", "+2"),
                            plan.ChannelIdentity("WHATSAPP", "+3")],
        channel_priority=["WHATSAPP", "SMS"],
    )  # fmt: skip
    d = decide(claimed({"contact_id": "C1"}, {"name": "x"}), contacts={"C1": doc})
    assert (d.channel, d.identity, d.contact_id) == ("WHATSAPP", "+3", "C1")
    missing = decide(claimed({"contact_id": "C2"}, {"name": "x"}))
    assert missing.failure is not None and missing.failure[1] == "CONTACT_NOT_FOUND"


def test_an_at_most_once_attempt_lost_in_a_crash_fails_as_unknown():
    d = decide(claimed(identities(("SMS", "+2")), {"name": "x"}, send_started_at=NOW_MS - 5))
    assert d.outbound is None
    assert d.failure == ("FAILED", "UNKNOWN", plan.LOST_ATTEMPT)


# --- applying an outcome and recording it ---------------------------------------------------


def record() -> RoundRecord:
    now = datetime.fromtimestamp(NOW_MS / 1000, UTC)
    rec = RoundRecord(now, NOW_MS)
    # Events only queue up in the outbox until it is flushed: no database is touched here.
    rec.outbox = Outbox(cast(AsyncConnection, None), now)
    return rec


def sent(result: SendResult | None = None, **row_fields: Any) -> plan.Decision:
    d = decide(claimed(identities(("WHATSAPP", "+3"), ("SMS", "+2")), {"name": "x"},
                       **row_fields))  # fmt: skip
    d.result = result
    return d


POLICY = RetryPolicy(base_ms=1000, max_attempts=3)


def test_accepted_with_receipts_is_counted_where_it_stands():
    rec = record()
    result = SendResult("M1", "accepted", receipts=[("QUEUED_ON_CHANNEL", None),
                                                     ("DELIVERED", None)])  # fmt: skip
    apply_outcome(sent(result), rec, POLICY)
    (row,) = rec.rows
    assert (row.state, row.delivery_status, row.channel) == ("SENT", "DELIVERED", "WHATSAPP")
    assert (row.lease_owner, row.lease_until, row.send_started_at) == (None, None, None)
    assert dict(rec.deltas["B1"]) == {"queued": -1, "delivered": 1}


def test_retryable_error_goes_back_to_the_queue_until_attempts_run_out():
    rec = record()
    apply_outcome(sent(SendResult("M1", "retry", "RATE_LIMITED", "slow down")), rec, POLICY)
    (row,) = rec.rows
    assert row.state == "QUEUED" and row.due_at > NOW_MS and row.reason_code == "RATE_LIMITED"
    assert not any(rec.deltas["B1"].values())
    rec = record()
    apply_outcome(sent(SendResult("M1", "retry", "RATE_LIMITED", "x"), attempts=3), rec, POLICY)
    assert rec.rows[0].state == "FAILED" and dict(rec.deltas["B1"]) == {"queued": -1, "failed": 1}


def test_refusal_switches_to_the_next_channel_then_fails():
    rec = record()
    apply_outcome(sent(SendResult("M1", "failed", "CHANNEL_FAILURE", "no")), rec, POLICY)
    assert rec.rows[0].state == "QUEUED" and rec.rows[0].reason_code == plan.SWITCHING
    rec = record()
    last = sent(SendResult("M1", "failed", "CHANNEL_FAILURE", "no"), channel="WHATSAPP",
                reason_code=plan.SWITCHING)  # fmt: skip
    assert last.channel == "SMS"
    apply_outcome(last, rec, POLICY)
    assert rec.rows[0].state == "FAILED" and rec.rows[0].reason_code == "CHANNEL_FAILURE"


def test_deferred_and_released_messages_keep_their_attempt():
    rec = record()
    deferred = sent(attempts=2)
    deferred.deferred_to = NOW_MS + 700
    released = sent(attempts=2)
    released.released = True
    apply_outcome(deferred, rec, POLICY)
    apply_outcome(released, rec, POLICY)
    first, second = rec.rows
    assert (first.state, first.due_at, first.attempts, first.reason_code) == (
        "QUEUED",
        NOW_MS + 700,
        1,
        RATE_SLOT,
    )
    assert (second.state, second.due_at, second.attempts) == ("QUEUED", NOW_MS, 1)


def test_finish_rows_line_up_with_their_columns():
    rec = record()
    apply_outcome(sent(), rec, POLICY)
    values = rec.rows[0].values()
    assert len(values) == len(FINISH_NAMES) == len(FINISH_COLUMNS) + 1
    named = dict(zip(FINISH_NAMES, values, strict=True))
    assert named["id"] == "M1" and named["state"] == "SENT" and named["updated_at"] == NOW_MS
