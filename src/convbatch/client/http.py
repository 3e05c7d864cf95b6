"""A small client of the Batch API: OAuth2 client credentials, send, status, list by metadata.

Errors come back as :class:`ApiError` with the HTTP status and the server's message, so the
commands can tell a request that will never work (4xx) from one worth trying again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

TIMEOUT_S = 60


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}" if status else message)
        self.status = status
        self.message = message

    @property
    def retryable(self) -> bool:
        """Connection errors (status 0), throttling and server errors may pass on a retry."""
        return self.status in (0, 408, 429) or self.status >= 500


@dataclass(frozen=True)
class Credentials:
    url: str
    project: str
    key_id: str
    key_secret: str


def _error_message(status: int, body: Any) -> str:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if body.get("error_description"):
            return str(body["error_description"])
    return f"unexpected answer ({status})"


class BatchApi:
    """One project's Batch API, used as ``async with BatchApi(credentials) as api``."""

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials
        self.base = credentials.url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None
        self._token = ""

    async def __aenter__(self) -> BatchApi:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S))
        await self._fetch_token()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        assert self._session is not None, "use BatchApi as an async context manager"
        return self._session

    async def _fetch_token(self) -> None:
        auth = aiohttp.BasicAuth(self.credentials.key_id, self.credentials.key_secret)
        body = await self._call(
            "POST", "/oauth2/token", data={"grant_type": "client_credentials"}, auth=auth
        )
        self._token = str(body["access_token"])

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            async with self.session.request(method, self.base + path, **kwargs) as reply:
                body = await reply.json(content_type=None) if await reply.read() else None
                if reply.status != 200:
                    raise ApiError(reply.status, _error_message(reply.status, body))
                return body
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ApiError(0, f"{type(exc).__name__}: {exc}") from exc

    async def _api(self, method: str, path: str, **kwargs: Any) -> Any:
        """A bearer call; an expired token is fetched again once."""
        url = f"/v1/projects/{self.credentials.project}{path}"
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self._token}"}
            try:
                return await self._call(method, url, headers=headers, **kwargs)
            except ApiError as exc:
                if exc.status != 401 or attempt == 2:
                    raise
                await self._fetch_token()
        raise AssertionError("unreachable")

    async def send(self, body: dict[str, Any]) -> dict[str, Any]:
        return dict(await self._api("POST", "/messages", json=body))

    async def status(self, batch_id: str) -> dict[str, Any]:
        return dict(await self._api("GET", f"/messages/{batch_id}"))

    async def by_metadata(self, key: str, value: str) -> list[dict[str, Any]]:
        params = {"metadataKey": key, "metadataValue": value}
        return list(await self._api("GET", "/messages", params=params))
