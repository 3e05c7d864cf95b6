"""Where and how each claimed delivery goes: its payload, the webhook's current URL and
secret, or the app's secret for an event's own callback URL."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.apps.schemas import App
from convbatch.callbacks.outcomes import Claim
from convbatch.db.tables import apps, outbox_events, webhook_deliveries, webhooks
from convbatch.webhooks.schemas import Webhook

d = webhook_deliveries
_webhook = msgspec.json.Decoder(Webhook)
_app = msgspec.json.Decoder(App)


async def load_claims(conn: AsyncConnection, ids: list[str]) -> list[Claim]:
    """The claimed rows with their payloads, current targets and signing secrets."""
    if not ids:
        return []
    query = (
        select(*d.c["id", "webhook_id", "app_id", "project_id", "target", "order_key", "event_id",
                    "attempts", "retry_since"], outbox_events.c.payload)
        .join(outbox_events, outbox_events.c.id == d.c.event_id)
        .where(d.c.id.in_(ids))
    )  # fmt: skip
    rows = (await conn.execute(query)).all()
    hook_ids = {r.webhook_id for r in rows if r.webhook_id}
    hooks: dict[str, Webhook] = {}
    if hook_ids:
        found = await conn.execute(
            select(webhooks.c.id, webhooks.c.doc).where(webhooks.c.id.in_(hook_ids))
        )
        hooks = {r.id: _webhook.decode(r.doc) for r in found}
    app_ids = {r.app_id for r in rows if not r.webhook_id}
    owners: dict[str, App] = {}
    if app_ids:
        found = await conn.execute(select(apps.c.id, apps.c.doc).where(apps.c.id.in_(app_ids)))
        owners = {r.id: _app.decode(r.doc) for r in found}
    return [_claim(r, hooks, owners) for r in rows]


def _claim(row: Any, hooks: dict[str, Webhook], owners: dict[str, App]) -> Claim:
    claim = Claim(row.id, row.target, row.target, row.order_key, row.event_id, row.attempts,
                  row.retry_since, row.payload.encode(), project_id=row.project_id)  # fmt: skip
    if row.webhook_id:
        hook = hooks.get(row.webhook_id)
        if hook is None:
            claim.skip = "webhook was deleted"
        elif hook.target_type != "HTTP":
            claim.skip = f"webhook target_type is {hook.target_type}"
        else:
            # Follow a webhook whose URL was changed since the event, with its current secret.
            claim.target, claim.secret = hook.target, hook.secret or None
        return claim
    app = owners.get(row.app_id)
    claim.secret = app.callback_settings.secret_for_overridden_callback_urls if app else None
    return claim
