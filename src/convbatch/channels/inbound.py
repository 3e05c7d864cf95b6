"""Routes where channels report receipts for messages we sent through them (extensions).

* ``POST /apps/{app_id}/relay-receipts``: the callbacks of an upstream Conversation API that a
  ``conversation_api`` channel relayed to. Not bearer-authenticated: the call must carry the
  Sinch webhook signature made with the channel's ``driver_settings.callback_secret``.
* ``POST /apps/{app_id}/http-receipts``: receipts from the receiver of an ``http`` channel,
  authenticated by its ``driver_settings.receipt_token`` in the ``X-Receipt-Token`` header;
  the body is one receipt ``{message_id, status, reason?: {code, description}}`` or a list.

Both feed the engine's receipt entry point. A receipt for a message that the engine has not yet
recorded as sent (the channel answered faster than we wrote our own record), or, for relays,
whose upstream id we have not stored yet, is answered 503 with ``Retry-After``, nothing being
stored for it: the sender should post it again later. Posting a receipt twice is harmless.
"""

from __future__ import annotations

import hmac
from typing import Any, Literal

import msgspec
from sqlalchemy import bindparam, text
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from convbatch.api.errors import envelope
from convbatch.api.wire import decode_json, json_response, read_body
from convbatch.apps.repository import get_app
from convbatch.apps.schemas import App
from convbatch.callbacks import signing
from convbatch.channels.conversation_api import message_ids_for
from convbatch.engine.context import ContextCache
from convbatch.engine.receipts import Receipt, apply_receipts
from convbatch.errors import InvalidArgument, NotFound, Unauthenticated
from convbatch.services import Services, services_of

MAX_SIGNATURE_AGE_S = 300  # a signed receipt older or newer than this is a replay, or a bad clock
RECEIPT_STATUSES = ("QUEUED_ON_CHANNEL", "DELIVERED", "READ", "FAILED")
TOKEN_HEADER = "x-receipt-token"
RETRY_AFTER_S = 1
MAX_RECEIPT_BODY = 1024 * 1024


class ReceiptReason(msgspec.Struct, kw_only=True):
    code: str
    description: str = ""


class HttpReceipt(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    message_id: str
    status: Literal["QUEUED_ON_CHANNEL", "DELIVERED", "READ", "FAILED"]
    reason: ReceiptReason | None = None


def signed_recently(headers: Any, now_s: float) -> bool:
    """The signature's timestamp is within MAX_SIGNATURE_AGE_S of now: a captured receipt
    cannot be replayed later."""
    try:
        signed_at = int(headers.get(signing.TIMESTAMP, ""))
    except ValueError:
        return False
    return abs(now_s - signed_at) <= MAX_SIGNATURE_AGE_S


def verify_signature(secret: str, body: bytes, headers: Any) -> bool:
    """True if the Sinch signature headers match ``body`` under ``secret``."""
    given = headers.get(signing.SIGNATURE)
    nonce = headers.get(signing.NONCE)
    timestamp = headers.get(signing.TIMESTAMP)
    if not (secret and given and nonce and timestamp):
        return False
    expected = signing.signature(secret, body, nonce, timestamp)
    return hmac.compare_digest(expected.encode(), given.encode())


def _settings_of(app: App, driver: str, name: str) -> list[str]:
    """The non-empty ``driver_settings[name]`` strings of the app's channels using ``driver``."""
    values = (c.driver_settings.get(name) for c in app.channel_credentials if c.driver == driver)
    return [v for v in values if isinstance(v, str) and v]


async def _app(services: Services, request: Request) -> App:
    project_id, app_id = request.path_params["project_id"], request.path_params["app_id"]
    async with services.db.read() as conn:
        app = await get_app(conn, project_id, app_id)
    if app is None:
        raise NotFound(f"App {app_id} not found")
    return app


def _try_later(message: str) -> Response:
    response = envelope(503, "UNAVAILABLE", message)
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


async def _apply(services: Services, receipts: list[Receipt]) -> set[str]:
    async with services.db.transaction() as conn:
        return await apply_receipts(conn, receipts, services.clock.now(), ContextCache())


def _delivery_report(body: bytes) -> dict[str, Any] | None:
    try:
        event = msgspec.json.decode(body)
    except msgspec.DecodeError:
        raise InvalidArgument("Malformed JSON") from None
    report = event.get("message_delivery_report") if isinstance(event, dict) else None
    return report if isinstance(report, dict) else None


async def relay_receipts(request: Request) -> Response:
    services = services_of(request)
    app = await _app(services, request)
    body = await read_body(request, MAX_RECEIPT_BODY)
    secrets = _settings_of(app, "conversation_api", "callback_secret")
    if not any(verify_signature(s, body, request.headers) for s in secrets):
        raise Unauthenticated("Missing or invalid webhook signature")
    if not signed_recently(request.headers, services.clock.now().timestamp()):
        raise Unauthenticated(
            f"Signature timestamp is more than {MAX_SIGNATURE_AGE_S} s away from now"
        )
    report = _delivery_report(body)
    # Other callbacks (submit notifications, inbound messages, ...) are of no use here.
    status = report.get("status") if report else None
    upstream_id = str(report.get("message_id") or "") if report else ""
    if report is None or status not in RECEIPT_STATUSES or not upstream_id:
        return json_response({})
    async with services.db.read() as conn:
        ours = (await message_ids_for(conn, app.id, [upstream_id])).get(upstream_id)
    if ours is None:
        return _try_later(f"upstream message {upstream_id} is not known yet")
    reason = report.get("reason")
    reason = reason if isinstance(reason, dict) else {}
    receipt = Receipt(ours, status, reason.get("code"), reason.get("description"))
    if await _apply(services, [receipt]):
        return _try_later(f"message {ours} is not recorded as sent yet")
    return json_response({})


_KNOWN = text(
    "SELECT id FROM messages WHERE id IN :ids AND project_id = :project AND app_id = :app"
).bindparams(bindparam("ids", expanding=True))


async def http_receipts(request: Request) -> Response:
    services = services_of(request)
    app = await _app(services, request)
    given = request.headers.get(TOKEN_HEADER, "")
    tokens = _settings_of(app, "http", "receipt_token")
    if not any(given and hmac.compare_digest(given.encode(), t.encode()) for t in tokens):
        raise Unauthenticated(f"Missing or invalid {TOKEN_HEADER} header")
    decoded = await decode_json(request, HttpReceipt | list[HttpReceipt])  # type: ignore[arg-type]
    items: list[HttpReceipt] = decoded if isinstance(decoded, list) else [decoded]
    project_id = request.path_params["project_id"]
    params = {"ids": [r.message_id for r in items], "project": project_id, "app": app.id}
    async with services.db.read() as conn:
        known = {row.id for row in await conn.execute(_KNOWN, params)}
    for item in items:
        if item.message_id not in known:
            raise NotFound(f"Message {item.message_id} not found")
    receipts = [Receipt(r.message_id, r.status, r.reason.code if r.reason else None,
                        r.reason.description if r.reason else None) for r in items]  # fmt: skip
    deferred = await _apply(services, receipts)
    if deferred:
        return _try_later(f"not recorded as sent yet: {', '.join(sorted(deferred))}")
    return json_response({})


routes = [
    Route("/apps/{app_id}/relay-receipts", relay_receipts, methods=["POST"]),
    Route("/apps/{app_id}/http-receipts", http_receipts, methods=["POST"]),
]
