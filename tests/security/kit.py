"""Shared by the security tests: a real server process started with a chosen outbound
allowlist (the suite's loopback allowance removed), and its tenant."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tests.e2e.processes import Client, Cluster, Server, create_tenant

NO_ALLOW = ""
LOOPBACK = "127.0.0.0/8,::1"


@contextlib.asynccontextmanager
async def served(
    database_url: str, log_dir: Path, allow: str = NO_ALLOW, **env: str
) -> AsyncIterator[tuple[Server, Client]]:
    """A ``convbatch serve`` process (engine inside) with ``CONVBATCH_OUTBOUND_ALLOW=allow``
    and a client of a fresh tenant."""
    tenant = create_tenant(database_url)
    log_dir.mkdir(parents=True, exist_ok=True)
    with Cluster.running(database_url, log_dir) as cluster:
        cluster.env["CONVBATCH_OUTBOUND_ALLOW"] = allow
        cluster.env.update(env)
        server = cluster.server(engine=True)
        async with Client(server.url, tenant) as client:
            yield server, client


def conv_path(client: Client, path: str) -> str:
    return f"/conversation/v1/projects/{client.tenant.project_id}{path}"


def auth(client: Client) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.token}"}


def batch(app_id: str, **extra: Any) -> dict[str, Any]:
    identity = {"channel": "SMS", "identity": "+46700000000"}
    return {"app_id": app_id, "message": {"text_message": {"text": "hi"}},
            "recipient_and_params": [{"recipient": {"identified_by": {
                "channel_identities": [identity]}}}], **extra}  # fmt: skip
