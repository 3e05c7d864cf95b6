"""Creating, changing and deleting webhooks, with the checks Sinch applies to them."""

from __future__ import annotations

from urllib.parse import urlparse

from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.api.patch import apply_changes, requested_changes
from convbatch.apps.repository import lock_app
from convbatch.errors import InvalidArgument, NotFound
from convbatch.ids import new_ulid
from convbatch.net.urls import check_outbound_url
from convbatch.quotas import check_room_for_webhook
from convbatch.secrets.sealing import restore_webhook
from convbatch.webhooks import repository as repo
from convbatch.webhooks.schemas import (
    MAX_WEBHOOKS_PER_APP,
    Webhook,
    WebhookCreateRequest,
    WebhookPatch,
)

UPDATABLE = tuple(WebhookPatch.__struct_fields__)
_RESET = {"target_type": "DISMISS", "secret": "", "client_credentials": None}


def check_target(target: str) -> None:
    check_outbound_url("target", target)
    host = (urlparse(target).hostname or "").lower()
    # Pointing a webhook back at the Conversation API itself would make events loop.
    if host.startswith("conversation-api.") and host.endswith(".sinch.com"):
        raise InvalidArgument.field("target", "a Conversation API host cannot be a target")


async def check_room_on_app(conn: AsyncConnection, project_id: str, app_id: str) -> None:
    """The app must exist in the project and have room for one more webhook."""
    if await lock_app(conn, project_id, app_id) is None:
        raise InvalidArgument.field("app_id", f"app {app_id} does not exist in this project")
    if await repo.count_webhooks(conn, project_id, app_id) >= MAX_WEBHOOKS_PER_APP:
        raise InvalidArgument.field(
            "app_id", f"app {app_id} already has {MAX_WEBHOOKS_PER_APP} webhooks, the maximum"
        )


async def create_webhook(
    conn: AsyncConnection, project_id: str, req: WebhookCreateRequest, now_ms: int
) -> Webhook:
    check_target(req.target)
    await check_room_on_app(conn, project_id, req.app_id)
    await check_room_for_webhook(conn, project_id)
    webhook = Webhook(
        id=new_ulid(now_ms),
        app_id=req.app_id,
        target=req.target,
        target_type=req.target_type or "DISMISS",
        triggers=list(dict.fromkeys(req.triggers or [])),
        secret=req.secret or "",
        client_credentials=req.client_credentials,
    )
    webhook = restore_webhook(webhook, None)  # a mask with nothing behind it is a 400
    await repo.insert_webhook(conn, project_id, webhook, now_ms)
    return webhook


async def require_webhook(conn: AsyncConnection, project_id: str, webhook_id: str) -> Webhook:
    webhook = await repo.get_webhook(conn, project_id, webhook_id)
    if webhook is None:
        raise NotFound(f"Webhook {webhook_id} not found")
    return webhook


async def update_webhook(
    conn: AsyncConnection,
    project_id: str,
    webhook_id: str,
    patch: WebhookPatch,
    mask: list[str] | None,
) -> Webhook:
    webhook = await require_webhook(conn, project_id, webhook_id)
    changes = requested_changes(patch, mask)
    updated = apply_changes(
        webhook, changes, required=("app_id", "target", "triggers"), defaults=_RESET
    )
    updated.triggers = list(dict.fromkeys(updated.triggers))
    updated = restore_webhook(updated, webhook)  # a secret sent back masked stays as stored
    check_target(updated.target)
    if updated.app_id != webhook.app_id:
        await check_room_on_app(conn, project_id, updated.app_id)
    await repo.replace_webhook(conn, project_id, updated)
    return updated


async def delete_webhook(conn: AsyncConnection, project_id: str, webhook_id: str) -> None:
    if not await repo.delete_webhook_row(conn, project_id, webhook_id):
        raise NotFound(f"Webhook {webhook_id} not found")
