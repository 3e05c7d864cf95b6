"""/docs: Swagger UI from the installed package, served by this server alone (no outside host),
set up to try calls with a bearer token against /openapi.json."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from convbatch.config import Settings
from tests.support import Api, DatabaseFactory, running_api

OUTSIDE = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.I)


@pytest.fixture
async def sqlite_api(database_factory: DatabaseFactory, tmp_path: Path) -> AsyncIterator[Api]:
    url = await database_factory.sqlite(tmp_path / "docs.db")
    async with running_api(Settings(database_url=url)) as running:
        yield running


async def test_docs_page_and_its_assets_come_from_this_server(sqlite_api: Api) -> None:
    client = sqlite_api.client
    page = await client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "http://" not in page.text and "https://" not in page.text
    assert not OUTSIDE.search(page.text)
    assets = re.findall(r"""(?:src|href)="([^"]+)\"""", page.text)
    assert {"/docs/static/swagger-ui-bundle.js", "/docs/init.js"} <= set(assets)
    for asset in assets:
        assert asset.startswith("/docs/"), asset
        reply = await client.get(asset)
        assert reply.status_code == 200, asset
        assert len(reply.content) > 0
    bundle = await client.get("/docs/static/swagger-ui-bundle.js")
    assert "SwaggerUIBundle" in bundle.text and "javascript" in bundle.headers["content-type"]
    init = (await client.get("/docs/init.js")).text
    assert 'url: "/openapi.json"' in init
    assert "validatorUrl: null" in init  # the validator badge would call an outside host


async def test_document_declares_bearer_auth_for_api_operations(sqlite_api: Api) -> None:
    document = (await sqlite_api.client.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    schemes = document["components"]["securitySchemes"]
    assert schemes["BearerAuth"] == {"type": "http", "scheme": "bearer"}
    send = document["paths"]["/v1/projects/{project_id}/messages"]["post"]
    assert send["security"] == [{"BearerAuth": []}]
    assert (await sqlite_api.client.get("/docs/static/no-such-file.js")).status_code == 404
