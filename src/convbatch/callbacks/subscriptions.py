"""Who receives an event: the webhooks of the projects a transaction writes events for, read
once per transaction (one query for every project not seen yet) and matched in memory."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.db.bulk import chunked
from convbatch.db.tables import webhooks


class Target(NamedTuple):
    app_id: str  # the app whose webhook (or whose batch's callback URL) receives the event
    webhook_id: str | None  # None for a batch's callback_url
    url: str
    sends: bool = True  # False for a DISMISS webhook: the event is kept, nothing is posted


class _Hook(msgspec.Struct):
    target: str
    target_type: str
    triggers: list[str] = []


_decode = msgspec.json.Decoder(_Hook).decode


class Subscriptions:
    """The HTTP webhooks of some projects, per app, in creation order."""

    def __init__(self) -> None:
        # project -> app -> [(webhook id, URL, triggers, HTTP or not)]
        self._hooks: dict[str, dict[str, list[tuple[str, str, frozenset[str], bool]]]] = {}
        self.lookups = 0  # queries made (tests check there is one per transaction)

    def knows(self, project_id: str) -> bool:
        return project_id in self._hooks

    async def load(self, conn: AsyncConnection, project_ids: Iterable[str]) -> None:
        """Read the webhooks of the projects not read yet, in one query per 1000 projects."""
        wanted = sorted({p for p in project_ids if p not in self._hooks})
        for project_id in wanted:
            self._hooks[project_id] = {}
        for chunk in chunked(wanted):
            self.lookups += 1
            query = (
                select(webhooks.c.id, webhooks.c.project_id, webhooks.c.app_id, webhooks.c.doc)
                .where(webhooks.c.project_id.in_(chunk))
                .order_by(webhooks.c.project_id, webhooks.c.app_id, webhooks.c.created_at,
                          webhooks.c.id)
            )  # fmt: skip
            for row in await conn.execute(query):
                hook = _decode(row.doc)
                per_app = self._hooks[row.project_id].setdefault(row.app_id, [])
                http = hook.target_type == "HTTP"
                per_app.append((row.id, hook.target, frozenset(hook.triggers), http))

    def targets(
        self, project_id: str, app_id: str, trigger: str, callback_url: str | None = None
    ) -> list[Target]:
        """Who subscribes to an event: its own callback URL when it has one (it replaces the
        app's webhooks); else the app's webhooks subscribed to ``trigger``; for a project-wide
        event (no app, as contacts), those of every app of the project. ``load`` the project
        first. Only the targets that ``send`` get deliveries."""
        if callback_url:
            return [Target(app_id, None, callback_url)]
        apps = self._hooks[project_id]
        pairs = [(app_id, apps.get(app_id, []))] if app_id else list(apps.items())
        return [
            Target(owner, hook_id, url, http)
            for owner, hooks in pairs
            for hook_id, url, triggers, http in hooks
            if trigger in triggers
        ]
