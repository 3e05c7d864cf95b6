"""Operator maxima for the driver settings that control time or load: a tenant's channel cannot
ask for a send call that takes minutes, receipts an age away, or thousands of messages in flight.
A value above its maximum is refused when the app is created or changed (400 naming the field),
so the engine never meets one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from convbatch.apps.schemas import ChannelCredential
from convbatch.config import Settings
from convbatch.errors import InvalidArgument

_SANDBOX_DELAYS = ("queued_delay_ms", "delivered_delay_ms", "read_delay_ms")


def limits_of(settings: Settings) -> dict[str, dict[str, float]]:
    """Per driver, the maximum of each capped setting (its minimum is 0, or 1 for windows)."""
    window = float(settings.max_driver_concurrency)
    timeout = settings.max_driver_timeout_s
    return {
        "sandbox": {"latency_ms": settings.max_sandbox_latency_ms, "concurrency": window,
                    **dict.fromkeys(_SANDBOX_DELAYS, settings.max_receipt_delay_ms)},
        "http": {"timeout": timeout, "concurrency": window},
        "conversation_api": {"timeout": timeout, "concurrency": window},
    }  # fmt: skip


def check_driver_limits(credentials: Sequence[ChannelCredential] | Any, settings: Settings) -> None:
    if not isinstance(credentials, list):
        return  # not part of this request
    caps = limits_of(settings)
    for index, credential in enumerate(credentials):
        given = credential.driver_settings or {}
        for name, maximum in caps.get(credential.driver, {}).items():
            if name in given:
                _check(f"channel_credentials[{index}].driver_settings.{name}", given[name],
                       maximum, minimum=1 if name == "concurrency" else 0)  # fmt: skip


def _check(field: str, value: Any, maximum: float, minimum: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgument.field(field, "must be a number")
    if not minimum <= value <= maximum:
        raise InvalidArgument.field(field, f"must be between {minimum:g} and {maximum:g}")
