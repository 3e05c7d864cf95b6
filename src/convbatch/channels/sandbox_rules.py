"""What the sandbox channel does with a message, decided by the recipient identity (so tests and
demos can ask for an outcome) and by the app channel's ``driver_settings``.

| identity ends with | outcome |
|---|---|
| ``0000`` | QUEUED_ON_CHANNEL, DELIVERED, READ |
| ``01`` | QUEUED_ON_CHANNEL, then FAILED with RECIPIENT_NOT_REACHABLE |
| ``02`` | refused with CHANNEL_FAILURE on every channel but SMS (so fallback shows) |
| ``03`` | two retryable errors, accepted on the third attempt |
| ``04`` | QUEUED_ON_CHANNEL and nothing after it |
| other | QUEUED_ON_CHANNEL, DELIVERED; READ for ``read_rate`` of them; ``failure_rate`` fail |
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from convbatch.channels.base import Outbound, SendResult, accepted, failed, retry

# One planned receipt: (status, reason code or None, delay in ms after the previous one).
PlannedReceipt = tuple[str, str | None, int]


@dataclass(frozen=True)
class SandboxSettings:
    # Delays of each receipt after the previous one. Zero (the default) answers it with the send.
    queued_delay_ms: int = 0
    delivered_delay_ms: int = 0
    read_delay_ms: int = 0
    read_rate: float = 0.0
    failure_rate: float = 0.0
    seed: int = 0
    latency_ms: int = 0  # simulated time the channel takes to accept a send call
    concurrency: int = 1000  # messages in flight at once (the lane's window)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SandboxSettings:
        known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def _chance(settings: SandboxSettings, message_id: str, salt: str) -> float:
    return random.Random(f"{settings.seed}:{salt}:{message_id}").random()


def decide(msg: Outbound, settings: SandboxSettings) -> tuple[SendResult, list[PlannedReceipt]]:
    """The immediate answer to a send, and the receipts that will follow an accepted one."""
    identity = msg.identity
    if identity.endswith("02") and msg.channel != "SMS":
        return failed(msg.message_id, "CHANNEL_FAILURE", "sandbox: channel refused"), []
    if identity.endswith("03") and msg.attempt < 3:
        return retry(msg.message_id, f"sandbox: temporary failure (attempt {msg.attempt})"), []
    queued: PlannedReceipt = ("QUEUED_ON_CHANNEL", None, settings.queued_delay_ms)
    delivered: PlannedReceipt = ("DELIVERED", None, settings.delivered_delay_ms)
    read: PlannedReceipt = ("READ", None, settings.read_delay_ms)
    if identity.endswith("0000"):
        plan = [queued, delivered, read]
    elif identity.endswith("01"):
        plan = [queued, ("FAILED", "RECIPIENT_NOT_REACHABLE", settings.delivered_delay_ms)]
    elif identity.endswith("04"):
        plan = [queued]
    elif settings.failure_rate and _chance(settings, msg.message_id, "f") < settings.failure_rate:
        plan = [queued, ("FAILED", "RECIPIENT_NOT_REACHABLE", settings.delivered_delay_ms)]
    elif settings.read_rate and _chance(settings, msg.message_id, "r") < settings.read_rate:
        plan = [queued, delivered, read]
    else:
        plan = [queued, delivered]
    return accepted(msg.message_id), plan
