"""The sandbox channel: accepts messages into a durable inbox in the convbatch database (so what
it received can be inspected and survives restarts) and plays back realistic receipts.

The inbox is keyed by message id, the idempotency key: a message sent twice (say, after a worker
crash) is recorded once, with its ``deliveries`` count raised.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import text

from convbatch.channels.base import Outbound, SendResult
from convbatch.channels.sandbox_rules import SandboxSettings, decide
from convbatch.clock import Clock, epoch_ms
from convbatch.db.engine import Database

_encode = msgspec.json.Encoder().encode

_UPSERT = text(
    "INSERT INTO sandbox_inbox (message_id, project_id, app_id, batch_id, channel, identity, "
    "body, deliveries, received_at, next_receipt_at, receipt_plan) VALUES (:message_id, "
    ":project_id, :app_id, :batch_id, :channel, :identity, :body, 1, :received_at, "
    ":next_receipt_at, :receipt_plan) "
    "ON CONFLICT (message_id) DO UPDATE SET deliveries = sandbox_inbox.deliveries + 1"
)


BATCH_SIZE = 500  # the inbox takes a call's messages in one transaction


class SandboxDriver:
    name = "sandbox"

    def __init__(self, db: Database, clock: Clock, settings: dict[str, Any] | None = None):
        self.db = db
        self.clock = clock
        self.settings = SandboxSettings.from_dict(settings or {})
        self.window = self.settings.concurrency
        self.batch_size = min(self.window, BATCH_SIZE)
        # The simulated latency plus room for the inbox write on a busy database.
        self.deadline_s = self.settings.latency_ms / 1000 + 10

    async def send(self, messages: Sequence[Outbound]) -> list[SendResult]:
        if self.settings.latency_ms:
            await asyncio.sleep(self.settings.latency_ms / 1000)
        now_ms = epoch_ms(self.clock.now())
        results, rows = [], []
        for msg in messages:
            result, plan = decide(msg, self.settings)
            results.append(result)
            if result.outcome != "accepted":
                continue
            while plan and plan[0][2] == 0:  # receipts due at once ride on the answer
                result.receipts.append(plan[0][:2])
                plan = plan[1:]
            rows.append({
                "message_id": msg.message_id, "project_id": msg.project_id,
                "app_id": msg.app_id, "batch_id": msg.batch_id, "channel": msg.channel,
                "identity": msg.identity, "body": _encode(msg.message).decode(),
                "received_at": now_ms, "next_receipt_at": now_ms + plan[0][2] if plan else None,
                "receipt_plan": _encode(plan).decode(),
            })  # fmt: skip
        if rows:
            async with self.db.transaction() as conn:
                await conn.execute(_UPSERT, rows)
        return results

    async def aclose(self) -> None:
        return None
