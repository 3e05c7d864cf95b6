"""The one front door for events: a per-transaction outbox.

A producer makes one ``Outbox`` for its transaction, says what happened (a delivery report, a
batch status, a processing report...) and calls ``flush`` before committing. Each payload kind
is built here and only here. The flush reads the webhooks of the projects concerned once (not
again for the rest of the transaction), builds only the payloads somebody listens to, and
stores each event once with one delivery per receiving endpoint, in the producer's transaction:
a state change and its callbacks commit together, and there is no fan-out step afterwards.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from inspect import isawaitable
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.callbacks import events as ev
from convbatch.callbacks.fanout import Stored, store
from convbatch.callbacks.subscriptions import Subscriptions
from convbatch.clock import epoch_ms

_encode = msgspec.json.Encoder().encode
_decode_map = msgspec.json.Decoder(dict[str, str]).decode
COUNT_NAMES = ("queued", "sent", "delivered", "read", "failed", "cancelled", "expired")
Payload = dict[str, Any]
Builder = Callable[[], Payload | Awaitable[Payload]]


@dataclass(slots=True)
class Event:
    """An event and where it belongs. ``payload`` is the built payload for ``Outbox.add``;
    the outbox's own kinds leave it empty and build the payload at the flush."""

    project_id: str
    app_id: str  # "" for project-wide events (contacts): every app's webhooks may want them
    trigger: str
    payload: Payload
    batch_id: str | None = None
    message_id: str | None = None
    callback_url: str | None = None  # replaces the app's webhooks (a batch's callback_url)


@dataclass(slots=True)
class MessageFacts:
    """What a message's events say about it (see ``engine.events.message_facts``)."""

    project_id: str
    app_id: str
    message_id: str
    batch_id: str | None  # the carrier batch, also of a single send (orders the events)
    index: int | None
    channel: str | None
    identity: str | None
    contact_id: str | None
    metadata: str
    processing_mode: str
    public_batch_id: str | None  # what receipts show: no batch for a single send
    correlation_id: str
    callback_url: str | None


@dataclass(slots=True)
class BatchFacts:
    """What a batch's events say about it; ``of`` reads them from a batch row."""

    id: str
    project_id: str
    app_id: str
    batch_type: str
    send_after_ms: int | None
    metadata: str  # the JSON object as stored

    @classmethod
    def of(cls, row: Any) -> BatchFacts:
        return cls(row.id, row.project_id, row.app_id or "", row.batch_type, row.send_after,
                   row.metadata)  # fmt: skip


def batch_counts(row: Any) -> dict[str, int]:
    """The counts of a batch row, as the processing report gives them."""
    return {"total": row.total, **{name: getattr(row, name) for name in COUNT_NAMES}}


class Outbox:
    """The events of one transaction. ``subscriptions`` may come already loaded (read before
    the transaction, as a batch send does to keep the writer short)."""

    def __init__(
        self, conn: AsyncConnection, now: datetime, subscriptions: Subscriptions | None = None
    ) -> None:
        self.conn = conn
        self.now = now
        self.subscriptions = subscriptions or Subscriptions()
        self._pending: list[tuple[Event, Builder | None]] = []

    @classmethod
    async def open(cls, conn: AsyncConnection, now: datetime, project_ids: Iterable[str]) -> Outbox:
        """An outbox that knows these projects' webhooks from the start, so events nobody
        listens to cost nothing at all (see ``listens``)."""
        outbox = cls(conn, now)
        await outbox.subscriptions.load(conn, project_ids)
        return outbox

    def listens(self, project_id: str, app_id: str, trigger: str,
                callback_url: str | None = None) -> bool:  # fmt: skip
        """Whether an event may have a receiver: False only when the project's webhooks are
        known and none wants it. Producers may skip gathering an event's facts when not."""
        if callback_url or not self.subscriptions.knows(project_id):
            return True
        return bool(self.subscriptions.targets(project_id, app_id, trigger))

    def add(self, event: Event) -> None:
        self._pending.append((event, None))

    def _later(self, event: Event, build: Builder) -> None:
        if self.listens(event.project_id, event.app_id, event.trigger, event.callback_url):
            self._pending.append((event, build))

    def _envelope(self, project_id: str, app_id: str, key: str, body: Payload,
                  correlation_id: str = "") -> Payload:  # fmt: skip
        return ev.envelope(project_id, app_id, key, body, self.now, correlation_id)

    def delivery_report(
        self, m: MessageFacts, status: str, reason_code: str | None = None,
        description: str | None = None,
    ) -> None:  # fmt: skip
        def build() -> Payload:
            report = ev.delivery_report(
                message_id=m.message_id, status=status, channel=m.channel, identity=m.identity,
                app_id=m.app_id, contact_id=m.contact_id, metadata=m.metadata,
                processing_mode=m.processing_mode, batch_id=m.public_batch_id,
                message_index=m.index, reason_code=reason_code, description=description,
            )  # fmt: skip
            key = "message_delivery_report"
            return self._envelope(m.project_id, m.app_id, key, report, m.correlation_id)

        event = Event(m.project_id, m.app_id, "MESSAGE_DELIVERY", {}, m.batch_id, m.message_id,
                      m.callback_url)  # fmt: skip
        self._later(event, build)

    def submit_notification(
        self, m: MessageFacts, channel: str, identity: str, message: Payload
    ) -> None:
        def build() -> Payload:
            note = ev.submit_notification(
                message_id=m.message_id, channel=channel, identity=identity, app_id=m.app_id,
                contact_id=m.contact_id, message=message, metadata=m.metadata,
                processing_mode=m.processing_mode,
            )  # fmt: skip
            key = "message_submit_notification"
            return self._envelope(m.project_id, m.app_id, key, note, m.correlation_id)

        event = Event(m.project_id, m.app_id, "MESSAGE_SUBMIT", {}, m.batch_id, m.message_id)
        self._later(event, build)

    def batch_status(self, b: BatchFacts, status: str) -> None:
        def build() -> Payload:
            send_after = b.send_after_ms
            note = ev.batch_status_update(
                batch_id=b.id, status=status, batch_type=b.batch_type,
                send_after=None if send_after is None else _when(send_after),
                batch_metadata=_decode_map(b.metadata),
            )  # fmt: skip
            key = "batch_status_update_notification"
            return self._envelope(b.project_id, b.app_id, key, note)

        self._later(Event(b.project_id, b.app_id, "BATCH_STATUS_UPDATE", {}, b.id), build)

    def processing_report(
        self, b: BatchFacts, counts: dict[str, int],
        failures: Callable[[AsyncConnection], Awaitable[list[Payload]]],
    ) -> None:  # fmt: skip
        """``failures`` lists the failed entries; it runs at the flush, only when somebody
        listens to the report."""

        async def build() -> Payload:
            report = ev.processing_report(
                batch_id=b.id, batch_type=b.batch_type, counts=counts,
                failed=await failures(self.conn),
            )  # fmt: skip
            key = "batch_processing_report_notification"
            return self._envelope(b.project_id, b.app_id, key, report)

        self._later(Event(b.project_id, b.app_id, "BATCH_PROCESSING_REPORT", {}, b.id), build)

    def contact_changed(self, trigger: str, project_id: str, batch_id: str,
                        contact: Payload) -> None:  # fmt: skip
        """CONTACT_CREATE or CONTACT_DELETE: project-wide, so the envelope has no app."""
        key = f"{trigger.lower()}_notification"
        self._later(Event(project_id, "", trigger, {}, batch_id),
                    lambda: self._envelope(project_id, "", key, {"contact": contact}))  # fmt: skip

    def opted_out(self, project_id: str, app_id: str, batch_id: str, identity: str,
                  list_type: str) -> None:  # fmt: skip
        note = ev.opt_out_notification(request_id=batch_id, identity=identity,
                                       list_type=list_type)  # fmt: skip
        self._later(
            Event(project_id, app_id, "OPT_OUT", {}, batch_id),
            lambda: self._envelope(project_id, app_id, "opt_out_notification", note),
        )

    async def flush(self) -> int:
        """Store the events somebody listens to, with their deliveries, in the transaction;
        returns how many events were stored. The outbox may be used again afterwards."""
        pending, self._pending = self._pending, []
        if not pending:
            return 0
        await self.subscriptions.load(self.conn, {e.project_id for e, _ in pending})
        stored: list[Stored] = []
        for event, build in pending:
            targets = self.subscriptions.targets(
                event.project_id, event.app_id, event.trigger, event.callback_url
            )
            if not targets:
                continue  # nobody subscribes: nothing is written
            payload: Any = event.payload if build is None else build()
            if isawaitable(payload):
                payload = await payload
            stored.append(Stored(event, _encode(payload).decode(), targets))
        await store(self.conn, stored, epoch_ms(self.now))
        return len(stored)


def _when(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
