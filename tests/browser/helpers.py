"""Request bodies and small waits shared by the console's browser tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any


def recipients(prefix: str, count: int, suffix: str = "5") -> list[dict[str, Any]]:
    """``count`` SMS recipients whose identities end in ``suffix`` (the sandbox delivers those
    ending in 5) with a name and a code each."""
    return [
        {"recipient": {"identified_by": {"channel_identities": [
            {"channel": "SMS", "identity": f"{prefix}{i:04d}{suffix}"}]}},
         "parameters": {"name": f"Person {i}", "code": str(1000 + i)}}
        for i in range(count)
    ]  # fmt: skip


def batch(app_id: str, people: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "app_id": app_id,
        "message": {"text_message": {"text": "Hi ${name}, your code is ${code}"}},
        "recipient_and_params": people,
        **extra,
    }


def in_an_hour() -> str:
    return (datetime.now(UTC) + timedelta(hours=1)).isoformat()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30) -> None:
    """Poll ``check`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.1)
