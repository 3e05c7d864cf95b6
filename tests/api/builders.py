"""Request bodies used across the API tests."""

from __future__ import annotations

from typing import Any


def sms(identity: str) -> dict[str, Any]:
    return {"identified_by": {"channel_identities": [{"channel": "SMS", "identity": identity}]}}


def recipients(count: int, **extra: Any) -> list[dict[str, Any]]:
    return [
        # Identities end in 9: the sandbox delivers them plainly (see sandbox_rules).
        {"recipient": sms(f"+1555{i:06d}9"), "parameters": {"name": f"n{i}"}, **extra}
        for i in range(count)
    ]


def batch(app_id: str, count: int = 3, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "app_id": app_id,
        "message": {"text_message": {"text": "Hello ${name}"}},
        "recipient_and_params": recipients(count),
    }
    body.update(fields)
    return body
