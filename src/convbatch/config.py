"""Runtime settings, read from flags and ``CONVBATCH_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from typing import Any

DEFAULT_DATABASE_URL = "sqlite:///convbatch.db"


def _env(name: str, default: str) -> str:
    return os.environ.get(f"CONVBATCH_{name.upper()}", default)


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to start. Immutable; build a new one with ``with_``."""

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8080
    # Requests bigger than this are refused with 413 before they are parsed.
    max_body_bytes: int = 8 * 1024 * 1024
    token_ttl_seconds: int = 3600
    # Requests per second per access key in each API process (0: no limit), and the burst.
    key_rate_per_s: float = 500.0
    key_burst: float = 1000.0
    # A request body must arrive within this many seconds (a slow upload is cut off with 408).
    body_read_timeout_s: float = 30.0
    # Public base URL printed in bootstrap output and curl examples.
    public_url: str = ""
    log_level: str = "info"
    log_format: str = "console"  # or "json": one JSON object per line, one line per request
    # When set, GET /metrics wants "Authorization: Bearer <metrics_token>".
    metrics_token: str = ""
    # Engine tuning (see engine/worker.py). A crashed worker's messages return after lease_ms.
    claim_limit: int = 500
    lease_ms: int = 30_000
    poll_ms: int = 50
    tick_ms: int = 250
    reap_ms: int = 1000
    retry_base_ms: int = 1000
    retry_max_attempts: int = 6
    # Operator maxima for driver settings that control time or load (a 400 above them).
    max_driver_concurrency: int = 1000  # a lane's in-flight window
    max_driver_timeout_s: float = 30.0  # http / conversation_api `timeout`
    max_sandbox_latency_ms: int = 30_000
    max_receipt_delay_ms: int = 3_600_000  # sandbox receipt delays
    # Web console: how long a sign-in lasts, how often a live page's data is checked for
    # changes, how long one live stream stays open before the browser reconnects (a stream
    # still open delays a graceful shutdown by at most that long), and how many may be open.
    console_session_seconds: int = 8 * 3600
    console_live_ms: int = 200
    console_stream_seconds: int = 15
    console_max_streams: int = 200  # live streams open at once per process
    # The key that seals stored secrets and signs tokens (see secrets/box.py): given here, or
    # read from (created in) a key file, beside the SQLite database by default.
    secret_key: str = field(default="", repr=False)
    secret_key_file: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Defaults, then environment, then explicit (non-None) overrides."""
        base = cls()
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "extra":
                continue
            raw = _env(f.name, "")
            if raw:
                values[f.name] = type(getattr(base, f.name))(raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(base, **values)

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"
