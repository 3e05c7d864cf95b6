"""The shared objects every request and task uses, built once per process."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from starlette.requests import Request

from convbatch.api.key_rate import KeyRateLimiter
from convbatch.clock import Clock, now_ms
from convbatch.config import Settings
from convbatch.db.engine import Database
from convbatch.db.group import GroupCommit
from convbatch.db.wakeup import Wakeup
from convbatch.identity.repository import forget_state
from convbatch.identity.revocation import Revocations
from convbatch.identity.tokens import TokenSigner
from convbatch.secrets.box import install_for

HEAVY_REQUESTS = 2  # batch sends decoded and prepared at once per process


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    tokens: TokenSigner
    revocations: Revocations
    wakeup: Wakeup = field(default_factory=Wakeup)
    group: GroupCommit = field(init=False)
    heavy_requests: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(HEAVY_REQUESTS)
    )

    key_rate: KeyRateLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.group = GroupCommit(self.db)
        self.key_rate = KeyRateLimiter(self.settings.key_rate_per_s, self.settings.key_burst)

    @classmethod
    async def start(cls, settings: Settings, db: Database, clock: Clock) -> Services:
        box = install_for(settings.database_url, settings.secret_key, settings.secret_key_file)
        async with db.transaction() as conn:
            # Older versions kept a signing key in this table, readable by anyone with the
            # database; tokens signed with it stop working (clients fetch new ones on a 401).
            await forget_state(conn, "token_signing_key")
        signer = TokenSigner(box.derive("access-token-signing"))
        return cls(settings, db, clock, signer, Revocations(db))

    def now_ms(self) -> int:
        return now_ms(self.clock)


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services
