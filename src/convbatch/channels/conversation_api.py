"""The ``conversation_api`` driver: relays each message to an upstream Conversation API (Sinch,
or another convbatch) as one ``messages:send`` call, with OAuth2 client credentials.

The upstream's receipts come back to our ``relay-receipts`` route (``callback_url`` of every
relayed message), which maps the upstream message id to ours through ``relay_messages``.

That table also makes relaying safe to repeat: the upstream has no idempotency key, so before
sending we look for a mapping of the message id, and a message already accepted upstream (say,
by a worker that crashed before recording it) is answered "accepted" without a second send.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiohttp
import msgspec
from sqlalchemy import bindparam, text

from convbatch.channels.base import Outbound, SendResult, accepted, failed
from convbatch.channels.oauth import AccessKey, TokenCache, TokenError
from convbatch.channels.pool import PooledHttp, error_text
from convbatch.clock import Clock, epoch_ms
from convbatch.db.engine import Database
from convbatch.net.session import failure_words

BAD_CONFIG = "CHANNEL_BAD_CONFIGURATION"
RECEIPT_PATH = "/conversation/v1/projects/{project_id}/apps/{app_id}/relay-receipts"

_INSERT_MAPPING = text(
    "INSERT INTO relay_messages (upstream_id, message_id, app_id, created_at) "
    "VALUES (:upstream_id, :message_id, :app_id, :created_at) ON CONFLICT (upstream_id) DO NOTHING"
)
_FIND_RELAYED = text(
    "SELECT DISTINCT message_id FROM relay_messages WHERE message_id IN :ids"
).bindparams(bindparam("ids", expanding=True))


class RelaySettings(msgspec.Struct, kw_only=True):
    """``driver_settings`` of a conversation_api channel."""

    base_url: str  # upstream Conversation API origin, e.g. https://eu.conversation.api.sinch.com
    auth_url: str  # origin of its token endpoint, e.g. https://auth.sinch.com
    project_id: str
    key_id: str
    key_secret: str
    app_id: str  # the upstream app that sends
    timeout: float = 10.0  # seconds per upstream call
    concurrency: int = 16  # upstream calls in flight per driver
    callback_base: str | None = None  # our public origin, where the upstream posts receipts
    callback_secret: str | None = None  # checked by the receipt route, unused here


def parse_settings(raw: dict[str, Any]) -> RelaySettings:
    """Raises ValueError naming what is wrong."""
    try:
        return msgspec.convert(raw, RelaySettings)
    except msgspec.ValidationError as exc:
        raise ValueError(f"conversation_api driver_settings: {exc}") from None


def receipt_url(base: str, project_id: str, app_id: str) -> str:
    return base.rstrip("/") + RECEIPT_PATH.format(project_id=project_id, app_id=app_id)


def relay_body(m: Outbound, upstream_app_id: str, callback_url: str) -> dict[str, Any]:
    """The single-send request for one message (the batch → messages:send mapping)."""
    identity = {"channel": m.channel, "identity": m.identity}
    body: dict[str, Any] = {
        "app_id": upstream_app_id,
        "recipient": {"identified_by": {"channel_identities": [identity]}},
        "message": m.message,
        "callback_url": callback_url,
        "processing_strategy": m.processing_strategy,
    }
    if m.metadata:
        body["message_metadata"] = m.metadata
    # Conversation metadata means nothing to a dispatch-only send; Sinch refuses it there.
    if m.conversation_metadata and m.processing_strategy != "DISPATCH_ONLY":
        body["conversation_metadata"] = m.conversation_metadata
    optional = {
        "ttl": m.ttl, "channel_properties": m.channel_properties,
        "correlation_id": m.correlation_id, "message_content_type": m.message_content_type,
    }  # fmt: skip
    body.update({k: v for k, v in optional.items() if v})
    return body


class ConversationApiDriver:
    name = "conversation_api"

    def __init__(
        self, db: Database, clock: Clock, settings: RelaySettings, tokens: TokenCache,
        callback_base: str | None,
    ) -> None:  # fmt: skip
        self.db, self.clock, self.settings, self.tokens = db, clock, settings, tokens
        self.callback_base = settings.callback_base or callback_base
        self.key = AccessKey(settings.auth_url, settings.key_id, settings.key_secret)
        self.url = (
            f"{settings.base_url.rstrip('/')}/v1/projects/{settings.project_id}/messages:send"
        )
        self.http = PooledHttp(settings.concurrency, settings.timeout)
        # One message per call; a call may fetch a token first, then relay.
        self.window, self.batch_size = settings.concurrency, 1
        self.deadline_s = 2 * settings.timeout + 5

    async def send(self, messages: Sequence[Outbound]) -> list[SendResult]:
        if not self.callback_base:
            text_ = "no callback_base in driver_settings and no public URL configured"
            return [failed(m.message_id, BAD_CONFIG, text_) for m in messages]
        done = await self._already_relayed([m.message_id for m in messages])
        results = [accepted(m.message_id) for m in messages if m.message_id in done]
        todo = [m for m in messages if m.message_id not in done]
        return results + await self.http.each(todo, self._relay)

    async def _already_relayed(self, ids: list[str]) -> set[str]:
        async with self.db.read() as conn:
            return {row.message_id for row in await conn.execute(_FIND_RELAYED, {"ids": ids})}

    async def _relay(self, m: Outbound) -> SendResult:
        assert self.callback_base is not None
        callback = receipt_url(self.callback_base, m.project_id, m.app_id)
        body = relay_body(m, self.settings.app_id, callback)
        try:
            status, payload = await self._post(body)
        except TokenError as exc:
            if exc.permanent:
                return failed(m.message_id, BAD_CONFIG, str(exc))
            return SendResult(m.message_id, "retry", "CHANNEL_FAILURE", str(exc))
        except (aiohttp.ClientError, TimeoutError) as exc:
            return SendResult(
                m.message_id, "retry", "CHANNEL_FAILURE", f"upstream: {failure_words(exc)}"
            )
        return await self._outcome(m, status, payload)

    async def _post(self, body: dict[str, Any]) -> tuple[int, Any]:
        """Send with a cached token; a 401 drops the token and tries once more with a new one
        (an upstream that restarted may no longer know our token, expired or not)."""
        session = self.http.session()
        for first in (True, False):
            token = await self.tokens.token(session, self.key, self.settings.timeout)
            auth = {"Authorization": f"Bearer {token}"}
            status, _headers, payload = await self.http.post_json(self.url, body, auth)
            if status == 401 and first:
                self.tokens.invalidate(self.key, token)
                continue
            break
        return status, payload

    async def _outcome(self, m: Outbound, status: int, payload: Any) -> SendResult:
        detail = f"upstream answered {error_text(status, payload)}"
        if 200 <= status < 300:
            upstream_id = payload.get("message_id") if isinstance(payload, dict) else None
            if not upstream_id:
                # Accepted upstream; resending would duplicate it, so no retry, but its
                # receipts cannot be matched.
                return SendResult(m.message_id, "accepted", None, "upstream gave no message_id")
            await self._remember(str(upstream_id), m)
            return accepted(m.message_id)
        if status == 429:
            return SendResult(m.message_id, "retry", "RATE_LIMITED", detail)
        if status >= 500 and status != 501:
            return SendResult(m.message_id, "retry", "CHANNEL_FAILURE", detail)
        return failed(m.message_id, _reason_for(status), detail)

    async def _remember(self, upstream_id: str, m: Outbound) -> None:
        """Stored at once, message by message, so a crash mid-batch loses as few as possible."""
        now_ms = epoch_ms(self.clock.now())
        row = {"upstream_id": upstream_id, "message_id": m.message_id, "app_id": m.app_id,
               "created_at": now_ms}  # fmt: skip
        async with self.db.transaction() as conn:
            await conn.execute(_INSERT_MAPPING, row)

    async def aclose(self) -> None:
        await self.http.aclose()


def _reason_for(status: int) -> str:
    if status in (401, 403, 404):  # our key, project or upstream app is wrong
        return BAD_CONFIG
    if status == 400:
        return "BAD_REQUEST"
    return "CHANNEL_REJECT"


async def message_ids_for(conn: Any, app_id: str, upstream_ids: Sequence[str]) -> dict[str, str]:
    """Our message ids of the given upstream ids, for messages relayed by ``app_id``."""
    if not upstream_ids:
        return {}
    query = text(
        "SELECT upstream_id, message_id FROM relay_messages WHERE upstream_id IN :ids "
        "AND app_id = :app_id"
    ).bindparams(bindparam("ids", expanding=True))
    rows = await conn.execute(query, {"ids": list(upstream_ids), "app_id": app_id})
    return {row.upstream_id: row.message_id for row in rows}
