"""The load side: request bodies and a small Batch API client over one aiohttp pool."""

from __future__ import annotations

import asyncio
import base64
import time
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

import aiohttp
import msgspec

from bench.procs import Deployment


def identity(i: int) -> str:
    # Ends in 9: none of the sandbox's special suffixes, so every recipient gets the plain
    # outcome (accepted, QUEUED_ON_CHANNEL then DELIVERED) and no retries skew the timings.
    return f"+1555{i:06d}9"


def in_an_hour() -> str:
    return (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def batch_body(
    app_id: str, recipients: int, *, metadata: dict[str, str] | None = None,
    send_after: str | None = None,
) -> bytes:  # fmt: skip
    body: dict[str, Any] = {
        "app_id": app_id,
        "message": {"text_message": {"text": "Hello ${name}, your code is ${code}"}},
        "recipient_and_params": [
            {"recipient": {"identified_by": {"channel_identities": [
                {"channel": "SMS", "identity": identity(i)}]}},
             "parameters": {"name": f"User {i}", "code": str(100000 + i)}}
            for i in range(recipients)
        ],
        "batch_metadata": metadata or {"bench": "1"},
    }  # fmt: skip
    if send_after:
        body["send_after"] = send_after
    return msgspec.json.encode(body)


class Api:
    """``async with Api(deployment, connections) as api``: a token, then Batch API calls."""

    def __init__(self, dep: Deployment, connections: int = 8) -> None:
        self.dep = dep
        self.base = f"{dep.url}/v1/projects/{dep.tenant.project_id}"
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=connections),
            timeout=aiohttp.ClientTimeout(total=120),
        )
        self.headers: dict[str, str] = {}

    async def __aenter__(self) -> Api:
        tenant = self.dep.tenant
        basic = base64.b64encode(f"{tenant.key_id}:{tenant.key_secret}".encode()).decode()
        async with self.session.post(
            f"{self.dep.url}/oauth2/token", data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
        ) as reply:  # fmt: skip
            bearer = (await reply.json())["access_token"]
        self.headers = {"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"}
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.session.close()

    async def call(self, method: str, url: str, body: bytes | None = None) -> Any:
        """One request; anything but 200 is an error (the scenario is broken)."""
        async with self.session.request(method, url, data=body, headers=self.headers) as reply:
            data = await reply.read()
            if reply.status != 200:
                raise RuntimeError(f"{method} {url} -> {reply.status}: {data[:300]!r}")
        return msgspec.json.decode(data) if data else None

    async def post_batch(self, body: bytes) -> str:
        return str((await self.call("POST", f"{self.base}/messages", body))["batch_id"])

    async def post_batches(self, body: bytes, count: int, concurrency: int) -> tuple[float, list]:
        """POST ``count`` copies of ``body``; returns (wall time of the first POST, batch ids)."""
        ids: list[str] = []
        todo = iter(range(count))

        async def one() -> None:
            for _ in todo:
                ids.append(await self.post_batch(body))

        started = time.time()
        await asyncio.gather(*(one() for _ in range(concurrency)))
        return started, ids

    async def status(self, batch_id: str) -> dict:
        return dict(await self.call("GET", f"{self.base}/messages/{batch_id}"))

    async def by_metadata(self, key: str, value: str) -> list[dict]:
        query = f"metadataKey={key}&metadataValue={value}"
        return list(await self.call("GET", f"{self.base}/messages?{query}"))

    async def cancel_by_metadata(self, key: str, value: str) -> None:
        body = msgspec.json.encode({"metadata_key": key, "metadata_value": value})
        await self.call("DELETE", f"{self.base}/messages", body)

    async def create_app(self, channel: dict[str, Any]) -> str:
        """An app of this tenant with one channel; returns its id."""
        url = f"{self.dep.url}/conversation/v1/projects/{self.dep.tenant.project_id}/apps"
        body = msgspec.json.encode({"display_name": "bench", "channel_credentials": [channel]})
        return str((await self.call("POST", url, body))["id"])

    async def wait_processed(self, batch_ids: list[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for batch_id in batch_ids:
            while True:
                got = await self.status(batch_id)
                if got["status"] == "PROCESSED" and got["counts"]["queued"] == 0:
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"batch {batch_id} not processed: {got}")
                await asyncio.sleep(0.05)

    async def create_webhook(self, target: str, secret: str) -> dict:
        tenant = self.dep.tenant
        url = f"{self.dep.url}/conversation/v1/projects/{tenant.project_id}/webhooks"
        body = msgspec.json.encode({
            "app_id": tenant.app_id, "target": target, "target_type": "HTTP",
            "triggers": ["MESSAGE_DELIVERY"], "secret": secret,
        })  # fmt: skip
        return dict(await self.call("POST", url, body))
