"""A small client for the Conversation API mount, for the conversation tests."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.support import Api


class Conv:
    """Calls /conversation/v1/projects/{project}/... with one project's token."""

    def __init__(self, client: httpx.AsyncClient, project_id: str, token: str) -> None:
        self.client = client
        self.project_id = project_id
        self.headers = {"Authorization": f"Bearer {token}"}

    def url(self, path: str) -> str:
        return f"/conversation/v1/projects/{self.project_id}{path}"

    async def post(self, path: str, body: Any) -> httpx.Response:
        return await self.client.post(self.url(path), json=body, headers=self.headers)

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(self.url(path), params=params, headers=self.headers)

    async def patch(self, path: str, body: Any, mask: str | None = None) -> httpx.Response:
        params = {} if mask is None else {"update_mask": mask}
        return await self.client.patch(
            self.url(path), json=body, params=params, headers=self.headers
        )

    async def delete(self, path: str) -> httpx.Response:
        # Sent the way the official SDK sends it: a JSON content type and no body.
        headers = {**self.headers, "Content-Type": "application/json"}
        return await self.client.delete(self.url(path), headers=headers)


def conv(api: Api) -> Conv:
    return Conv(api.client, api.project, api.token)


async def other_project(api: Api) -> Conv:
    tenant, token = await api.new_tenant()
    return Conv(api.client, tenant.project_id, token)


def bad_field(reply: httpx.Response) -> str:
    """The field a 400 names: from its BadRequest detail, or else (msgspec reports a missing
    top-level field without a location) the backquoted name in its message."""
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    if error["details"]:
        return str(error["details"][0]["field_violations"][0]["field"])
    match = re.search(r"required field `([^`]+)`", error["message"])
    assert match, error["message"]
    return match[1]


def assert_not_found(reply: httpx.Response) -> None:
    assert reply.status_code == 404, reply.text
    assert reply.json()["error"]["status"] == "NOT_FOUND"
