"""Turning a round's outcomes into message updates, counter deltas and outbox events, written in
one transaction so status, counts and callbacks never disagree."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from convbatch.callbacks import events as ev
from convbatch.callbacks.outbox import Event
from convbatch.engine.plan import SWITCHING, Decision
from convbatch.engine.receipts import BUCKET
from convbatch.engine.rows import FinishedMessage


@dataclass
class RoundRecord:
    """Accumulates what one round decided; ``rows`` feed ``finish_messages``."""

    now: datetime
    now_ms: int
    rows: list[FinishedMessage] = field(default_factory=list)
    deltas: dict[str, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    events: list[Event] = field(default_factory=list)
    triggers: dict[str, frozenset[str]] = field(default_factory=dict)  # per app

    def _row(self, d: Decision, state: str, *, due: int | None = None, attempts: int | None = None,
             reason: str | None = None, description: str | None = None,
             delivery: str | None = None) -> None:  # fmt: skip
        self.rows.append(FinishedMessage(
            d.row.id, state, self.now_ms if due is None else due,
            d.row.attempts if attempts is None else attempts, d.channel, d.identity,
            d.contact_id, d.metadata, reason, description, delivery, self.now_ms,
        ))  # fmt: skip

    def _count(self, d: Decision, **changes: int) -> None:
        if d.row.batch_id is None:
            return
        bucket = self.deltas[d.row.batch_id]
        for name, value in changes.items():
            bucket[name] += value

    def _wants(self, d: Decision, trigger: str) -> str | None:
        """Where a message event goes: the batch's callback_url for receipts, else "" when an
        app webhook subscribes, else None (nobody listens: write nothing)."""
        if trigger == "MESSAGE_DELIVERY" and d.ctx.options.callback_url:
            return d.ctx.options.callback_url
        return "" if trigger in self.triggers.get(d.row.app_id, frozenset()) else None

    def _delivery_event(self, d: Decision, status: str, code: str | None, text: str | None) -> None:
        target = self._wants(d, "MESSAGE_DELIVERY")
        if target is None:
            return
        report = ev.delivery_report(
            message_id=d.row.id, status=status, channel=d.channel, identity=d.identity,
            app_id=d.row.app_id, contact_id=d.contact_id, metadata=d.metadata,
            processing_mode=d.ctx.processing_mode, batch_id=d.ctx.public_batch_id,
            message_index=d.row.idx, reason_code=code, description=text,
        )  # fmt: skip
        payload = ev.envelope(d.row.project_id, d.row.app_id, "message_delivery_report", report,
                              self.now, d.ctx.options.correlation_id or "")  # fmt: skip
        self.events.append(Event(d.row.project_id, d.row.app_id, "MESSAGE_DELIVERY", payload,
                                 d.row.batch_id, d.row.id, target or None))  # fmt: skip

    def failed(self, d: Decision, state: str, code: str, text: str) -> None:
        self._row(d, state, reason=code, description=text)
        self._count(d, queued=-1, **{"expired" if state == "EXPIRED" else "failed": 1})
        self._delivery_event(d, "FAILED", code, text)

    def sent(self, d: Decision) -> None:
        self._submit_event(d)
        state, delivery, reason, text, bucket = "SENT", None, None, None, "sent"
        for status, code in d.result.receipts if d.result is not None else ():
            if status == "FAILED":
                state, reason, bucket = "FAILED", code or "UNKNOWN", "failed"
                text = f"channel reported {reason}"
            else:
                delivery, bucket = status, BUCKET[status]
            self._delivery_event(d, status, reason, text)
        self._row(d, state, delivery=delivery, reason=reason, description=text)
        self._count(d, queued=-1, **{bucket: 1})

    def _submit_event(self, d: Decision) -> None:
        if self._wants(d, "MESSAGE_SUBMIT") is None or d.outbound is None:
            return
        note = ev.submit_notification(
            message_id=d.row.id, channel=d.outbound.channel, identity=d.outbound.identity,
            app_id=d.row.app_id, contact_id=d.contact_id, message=d.outbound.message,
            metadata=d.metadata, processing_mode=d.ctx.processing_mode,
        )  # fmt: skip
        payload = ev.envelope(d.row.project_id, d.row.app_id, "message_submit_notification", note,
                              self.now, d.ctx.options.correlation_id or "")  # fmt: skip
        self.events.append(Event(d.row.project_id, d.row.app_id, "MESSAGE_SUBMIT", payload,
                                 d.row.batch_id, d.row.id))  # fmt: skip

    def again(self, d: Decision, due_ms: int, code: str | None, text: str | None,
              attempts: int | None = None) -> None:  # fmt: skip
        """Back to the queue (retry, rate-limit pacing): still queued, nothing counted."""
        self._row(d, "QUEUED", due=due_ms, attempts=attempts, reason=code, description=text)

    def switch_channel(self, d: Decision, code: str, text: str) -> None:
        self._row(d, "QUEUED", reason=SWITCHING, description=f"{code}: {text}")
        self._delivery_event(d, "SWITCHING_CHANNEL", code, text)
