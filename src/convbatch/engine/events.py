"""What the engine's message events say about a message, from its row and its batch: one
place for the derived fields (processing mode, the batch id receipts may show, correlation id,
callback URL), whether the event comes from a send or from a later receipt."""

from __future__ import annotations

from convbatch.callbacks.outbox import MessageFacts
from convbatch.engine.context import BatchContext


def message_facts(
    ctx: BatchContext | None, *, project_id: str, app_id: str, message_id: str,
    batch_id: str | None, index: int | None, channel: str | None, identity: str | None,
    contact_id: str | None, metadata: str | None,
) -> MessageFacts:  # fmt: skip
    return MessageFacts(
        project_id=project_id, app_id=app_id, message_id=message_id, batch_id=batch_id,
        index=index, channel=channel, identity=identity, contact_id=contact_id,
        metadata=metadata or "",
        processing_mode=ctx.processing_mode if ctx else "CONVERSATION",
        public_batch_id=ctx.public_batch_id if ctx else batch_id,
        correlation_id=(ctx.options.correlation_id if ctx else None) or "",
        callback_url=(ctx.options.callback_url if ctx else None) or None,
    )  # fmt: skip
