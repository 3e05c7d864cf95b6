"""Creating, changing and deleting apps. Functions take the caller's connection; the caller
owns the transaction."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.api.patch import apply_changes, requested_changes
from convbatch.apps import repository as repo
from convbatch.apps.schemas import App, AppCreateRequest, AppPatch, ChannelCredential
from convbatch.consents.repository import delete_consents_of_app
from convbatch.errors import InvalidArgument, NotFound
from convbatch.ids import new_ulid
from convbatch.net.urls import check_outbound_url
from convbatch.quotas import check_room_for_app
from convbatch.secrets.fields import URL, setting_kind
from convbatch.secrets.sealing import restore_app
from convbatch.webhooks.repository import delete_webhooks_of_app

UPDATABLE = tuple(AppPatch.__struct_fields__)
_ACTIVE = {"status": "ACTIVE"}


def checked_credentials(credentials: list[ChannelCredential]) -> list[ChannelCredential]:
    """Refuse two configurations of one channel with the same ordinal number (the engine
    could not tell which to use) and mark every channel active."""
    seen: set[tuple[str, int]] = set()
    for index, credential in enumerate(credentials):
        key = (credential.channel, credential.credential_ordinal_number or 0)
        if key in seen:
            raise InvalidArgument.field(
                f"channel_credentials[{index}].channel",
                f"channel {credential.channel} is configured twice with the same "
                "credential_ordinal_number",
            )
        seen.add(key)
    return [msgspec.structs.replace(c, state=dict(_ACTIVE)) for c in credentials]


def check_driver_urls(credentials: list[ChannelCredential]) -> None:
    """Every URL a driver will call must be one the server may reach (see net/)."""
    for index, credential in enumerate(credentials):
        for key, value in (credential.driver_settings or {}).items():
            if isinstance(value, str) and setting_kind(credential.driver, key) == URL:
                path = f"channel_credentials[{index}].driver_settings.{key}"
                check_outbound_url(path, value)


async def create_app(
    conn: AsyncConnection, project_id: str, req: AppCreateRequest, now_ms: int
) -> App:
    given: dict[str, Any] = {
        name: getattr(req, name) for name in req.__struct_fields__ if getattr(req, name) is not None
    }
    given["channel_credentials"] = checked_credentials(req.channel_credentials or [])
    await check_room_for_app(conn, project_id)
    app = restore_app(App(id=new_ulid(now_ms), **given), None)
    check_driver_urls(app.channel_credentials)
    await repo.insert_app(conn, project_id, app, now_ms)
    return app


async def app_named_in_body(conn: AsyncConnection, project_id: str, app_id: str) -> App:
    """The app a request body refers to: a missing one (or another project's) is a 400 on the
    ``app_id`` field, not a 404, since the resource addressed by the path exists."""
    app = await repo.get_app(conn, project_id, app_id)
    if app is None:
        raise InvalidArgument.field("app_id", f"app {app_id} does not exist in this project")
    return app


async def require_app(conn: AsyncConnection, project_id: str, app_id: str) -> App:
    app = await repo.get_app(conn, project_id, app_id)
    if app is None:
        raise NotFound(f"App {app_id} not found")
    return app


async def update_app(
    conn: AsyncConnection, project_id: str, app_id: str, patch: AppPatch, mask: list[str] | None
) -> App:
    app = await require_app(conn, project_id, app_id)
    changes = requested_changes(patch, mask)
    if changes.get("channel_credentials") is not None:
        changes["channel_credentials"] = checked_credentials(changes["channel_credentials"])
    updated = apply_changes(app, changes, required=("display_name",))
    # A GET sent back unchanged carries masks where the secrets are: keep the stored ones.
    updated = restore_app(updated, app)
    check_driver_urls(updated.channel_credentials)
    await repo.replace_app(conn, project_id, updated)
    return updated


async def delete_app(conn: AsyncConnection, project_id: str, app_id: str) -> None:
    """Delete the app with its webhooks and consent lists."""
    if not await repo.delete_app_row(conn, project_id, app_id):
        raise NotFound(f"App {app_id} not found")
    await delete_webhooks_of_app(conn, project_id, app_id)
    await delete_consents_of_app(conn, project_id, app_id)
