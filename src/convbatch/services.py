"""The shared objects every request and task uses, built once per process."""

from __future__ import annotations

import asyncio
import base64
import secrets
from dataclasses import dataclass, field

from starlette.requests import Request

from convbatch.clock import Clock, now_ms
from convbatch.config import Settings
from convbatch.db.engine import Database
from convbatch.db.group import GroupCommit
from convbatch.db.wakeup import Wakeup
from convbatch.identity.repository import load_or_create_state
from convbatch.identity.tokens import TokenSigner

HEAVY_REQUESTS = 2  # batch sends decoded and prepared at once per process


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    tokens: TokenSigner
    wakeup: Wakeup = field(default_factory=Wakeup)
    group: GroupCommit = field(init=False)
    heavy_requests: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(HEAVY_REQUESTS)
    )

    def __post_init__(self) -> None:
        self.group = GroupCommit(self.db)

    @classmethod
    async def start(cls, settings: Settings, db: Database, clock: Clock) -> Services:
        async with db.transaction() as conn:
            key = await load_or_create_state(
                conn, "token_signing_key", base64.b64encode(secrets.token_bytes(32)).decode()
            )
        return cls(settings, db, clock, TokenSigner(base64.b64decode(key)))

    def now_ms(self) -> int:
        return now_ms(self.clock)


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services
