"""Picks and caches the driver instance for each app channel, by its configuration."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from convbatch.apps.schemas import ChannelCredential
from convbatch.channels.base import Driver, Outbound, SendResult, failed
from convbatch.channels.sandbox import SandboxDriver
from convbatch.clock import Clock
from convbatch.db.engine import Database


class UnavailableDriver:
    """Stands in for a driver this build cannot run: every message fails permanently."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def send(self, messages: Sequence[Outbound]) -> list[SendResult]:
        text = f"driver {self.name!r} is not available"
        return [failed(m.message_id, "CHANNEL_BAD_CONFIGURATION", text) for m in messages]

    async def aclose(self) -> None:
        return None


class DriverRegistry:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
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
        if name == "sandbox":
            return SandboxDriver(self.db, self.clock, settings)
        return UnavailableDriver(name)

    async def aclose(self) -> None:
        for driver in self._drivers.values():
            await driver.aclose()
        self._drivers.clear()
