"""Turning a round's outcomes into message updates, counter deltas and outbox events, written in
one transaction so status, counts and callbacks never disagree."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from convbatch.callbacks.outbox import MessageFacts, Outbox
from convbatch.engine.events import message_facts
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
    outbox: Outbox | None = None  # the record transaction's, set when it opens

    def _row(self, d: Decision, state: str, *, due: int | None = None, attempts: int | None = None,
             reason: str | None = None, description: str | None = None,
             delivery: str | None = None) -> None:  # fmt: skip
        self.rows.append(FinishedMessage(
            d.row.id, state, self.now_ms if due is None else due,
            d.row.attempts if attempts is None else attempts, d.channel, d.identity,
            d.contact_id, d.metadata, reason, description, delivery,
            # When the attempt began (its rate-limit grant, if any), as a round's start was.
            d.started_ms or self.now_ms,
        ))  # fmt: skip

    def _count(self, d: Decision, **changes: int) -> None:
        if d.row.batch_id is None:
            return
        bucket = self.deltas[d.row.batch_id]
        for name, value in changes.items():
            bucket[name] += value

    def _events(self) -> Outbox:
        assert self.outbox is not None, "events are written in the record transaction"
        return self.outbox

    def _facts(self, d: Decision) -> MessageFacts:
        return message_facts(
            d.ctx, project_id=d.row.project_id, app_id=d.row.app_id, message_id=d.row.id,
            batch_id=d.row.batch_id, index=d.row.idx, channel=d.channel, identity=d.identity,
            contact_id=d.contact_id, metadata=d.metadata,
        )  # fmt: skip

    def _wants(self, d: Decision, trigger: str) -> bool:
        url = d.ctx.options.callback_url if trigger == "MESSAGE_DELIVERY" else None
        return self._events().listens(d.row.project_id, d.row.app_id, trigger, url)

    def _delivery_event(self, d: Decision, status: str, code: str | None, text: str | None) -> None:
        if self._wants(d, "MESSAGE_DELIVERY"):
            self._events().delivery_report(self._facts(d), status, code, text)

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
        if d.outbound is not None and self._wants(d, "MESSAGE_SUBMIT"):
            out = d.outbound
            self._events().submit_notification(self._facts(d), out.channel, out.identity,
                                               out.message)  # fmt: skip

    def again(self, d: Decision, due_ms: int, code: str | None, text: str | None,
              attempts: int | None = None) -> None:  # fmt: skip
        """Back to the queue (retry, rate-limit pacing): still queued, nothing counted."""
        self._row(d, "QUEUED", due=due_ms, attempts=attempts, reason=code, description=text)

    def switch_channel(self, d: Decision, code: str, text: str) -> None:
        self._row(d, "QUEUED", reason=SWITCHING, description=f"{code}: {text}")
        self._delivery_event(d, "SWITCHING_CHANNEL", code, text)
