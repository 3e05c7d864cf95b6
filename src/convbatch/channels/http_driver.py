"""The ``http`` driver: POSTs each rendered message as JSON to a URL of the operator's choosing
(an SMS gateway adapter, a test harness, ...). The receiver answers 2xx to take a message, 429 or
5xx to have it retried later, any other 4xx to refuse it for good; it may report receipts later
to our ``http-receipts`` route with the channel's ``receipt_token``.

Every request carries the message id as ``Idempotency-Key``: after a crash or a lost answer the
same message may be posted again, and the receiver can recognise it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiohttp
import msgspec

from convbatch.channels.base import Outbound, SendResult, accepted, failed
from convbatch.channels.pool import PooledHttp, error_text
from convbatch.net.session import failure_words

RECEIPT_PATH = "/conversation/v1/projects/{project_id}/apps/{app_id}/http-receipts"


class HttpSettings(msgspec.Struct, kw_only=True):
    """``driver_settings`` of an http channel."""

    url: str
    headers: dict[str, str] = msgspec.field(default_factory=dict)  # e.g. an Authorization
    timeout: float = 10.0
    concurrency: int = 16
    receipt_token: str | None = None  # expected on receipts posted back; unused here
    callback_base: str | None = None  # our public origin, told to the receiver


def parse_settings(raw: dict[str, Any]) -> HttpSettings:
    try:
        return msgspec.convert(raw, HttpSettings)
    except msgspec.ValidationError as exc:
        raise ValueError(f"http driver_settings: {exc}") from None


def http_body(m: Outbound, receipt_url: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "message_id": m.message_id, "project_id": m.project_id, "app_id": m.app_id,
        "batch_id": m.batch_id, "message_index": m.index, "channel": m.channel,
        "identity": m.identity, "contact_id": m.contact_id, "message": m.message,
        "metadata": m.metadata, "conversation_metadata": m.conversation_metadata,
        "correlation_id": m.correlation_id, "ttl": m.ttl,
        "channel_properties": m.channel_properties,
        "processing_strategy": m.processing_strategy,
        "message_content_type": m.message_content_type, "attempt": m.attempt,
    }  # fmt: skip
    if receipt_url:
        body["receipt_url"] = receipt_url
    return body


class HttpDriver:
    name = "http"

    def __init__(self, settings: HttpSettings, callback_base: str | None) -> None:
        self.settings = settings
        self.callback_base = settings.callback_base or callback_base
        self.http = PooledHttp(settings.concurrency, settings.timeout)
        # One message per call: each outcome is recorded as soon as its own request ends.
        self.window, self.batch_size = settings.concurrency, 1
        self.deadline_s = settings.timeout + 5

    async def send(self, messages: Sequence[Outbound]) -> list[SendResult]:
        return await self.http.each(messages, self._post)

    def _receipt_url(self, m: Outbound) -> str | None:
        if not self.callback_base:
            return None
        path = RECEIPT_PATH.format(project_id=m.project_id, app_id=m.app_id)
        return self.callback_base.rstrip("/") + path

    async def _post(self, m: Outbound) -> SendResult:
        headers = {**self.settings.headers, "Idempotency-Key": m.message_id}
        try:
            status, _headers, payload = await self.http.post_json(
                self.settings.url, http_body(m, self._receipt_url(m)), headers
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            detail = f"http channel: {failure_words(exc)}"
            return SendResult(m.message_id, "retry", "CHANNEL_FAILURE", detail)
        if 200 <= status < 300:
            return accepted(m.message_id)
        detail = f"http channel answered {error_text(status, payload)}"
        if status == 429:
            return SendResult(m.message_id, "retry", "RATE_LIMITED", detail)
        if status >= 500:
            return SendResult(m.message_id, "retry", "CHANNEL_FAILURE", detail)
        return failed(m.message_id, "CHANNEL_REJECT", detail)

    async def aclose(self) -> None:
        await self.http.aclose()
