"""Picks and caches the driver instance for each app channel, by its configuration."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from convbatch.apps.schemas import ChannelCredential
from convbatch.channels import conversation_api, http_driver
from convbatch.channels.base import Driver, Outbound, SendResult, failed
from convbatch.channels.conversation_api import ConversationApiDriver
from convbatch.channels.http_driver import HttpDriver
from convbatch.channels.oauth import TokenCache
from convbatch.channels.sandbox import SandboxDriver
from convbatch.clock import Clock
from convbatch.config import Settings
from convbatch.db.engine import Database


class UnavailableDriver:
    """Stands in for a driver this build cannot run, or one whose settings are wrong: every
    message fails permanently, saying why."""

    window = batch_size = 500
    deadline_s = 5.0

    def __init__(self, name: str, reason: str | None = None) -> None:
        self.name = name
        self.reason = reason or f"driver {name!r} is not available"

    async def send(self, messages: Sequence[Outbound]) -> list[SendResult]:
        return [failed(m.message_id, "CHANNEL_BAD_CONFIGURATION", self.reason) for m in messages]

    async def aclose(self) -> None:
        return None


class DriverRegistry:
    def __init__(self, db: Database, clock: Clock, settings: Settings | None = None) -> None:
        self.db = db
        self.clock = clock
        # Where upstreams and receivers post receipts back, unless a channel names its own.
        self.callback_base = settings.base_url if settings is not None else None
        self.tokens = TokenCache()  # shared: channels using one access key share its token
        self._drivers: dict[tuple[str, str, bytes], Driver] = {}

    def get(self, app_id: str, config: ChannelCredential) -> Driver:
        settings = config.driver_settings or {}
        key = (app_id, config.channel, msgspec.json.encode([config.driver, settings]))
        driver = self._drivers.get(key)
        if driver is None:
            driver = self._build(config.driver, settings)
            self._drivers[key] = driver
        return driver

    def _build(self, name: str, settings: dict) -> Driver:
        try:
            if name == "sandbox":
                return SandboxDriver(self.db, self.clock, settings)
            if name == "conversation_api":
                relay = conversation_api.parse_settings(settings)
                return ConversationApiDriver(
                    self.db, self.clock, relay, self.tokens, self.callback_base
                )
            if name == "http":
                return HttpDriver(http_driver.parse_settings(settings), self.callback_base)
        except ValueError as exc:
            return UnavailableDriver(name, str(exc))
        return UnavailableDriver(name)

    async def aclose(self) -> None:
        for driver in self._drivers.values():
            await driver.aclose()
        self._drivers.clear()
