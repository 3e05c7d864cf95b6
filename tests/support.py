"""Test helpers shared by the suites: databases, an in-process client, a live server."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import socket
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import uvicorn
from sqlalchemy.engine import make_url

from convbatch.app import create_app
from convbatch.bootstrap import Tenant, create_tenant
from convbatch.clock import Clock
from convbatch.config import Settings
from convbatch.db.engine import Database
from convbatch.db.migrate import upgrade

PG_ADMIN_URL = os.environ.get(
    "CONVBATCH_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
_counter = itertools.count()
LOOPBACK_ALLOW = "127.0.0.0/8,::1"
TEST_SECRET_KEY = "test-suite-secret-key"


def pg_dsn(database: str) -> str:
    return make_url(PG_ADMIN_URL).set(database=database).render_as_string(hide_password=False)


class DatabaseFactory:
    """Migrate one template per dialect per session; hand each test a cheap copy of it."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.pg_template: str | None = None
        self.sqlite_template: Path | None = None
        self.created_pg: list[str] = []

    async def sqlite(self, target: Path) -> str:
        if self.sqlite_template is None:
            self.sqlite_template = self.workdir / "template.db"
            db = Database(f"sqlite:///{self.sqlite_template}")
            await upgrade(db)
            await db.dispose()
        shutil.copyfile(self.sqlite_template, target)
        return f"sqlite:///{target}"

    async def postgresql(self) -> str:
        admin = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql+asyncpg", "postgresql"))
        try:
            if self.pg_template is None:
                self.pg_template = f"convbatch_tpl_{os.getpid()}"
                await admin.execute(f"DROP DATABASE IF EXISTS {self.pg_template}")
                await admin.execute(f"CREATE DATABASE {self.pg_template}")
                db = Database(pg_dsn(self.pg_template))
                await upgrade(db)
                await db.dispose()
            name = f"convbatch_t_{os.getpid()}_{next(_counter)}"
            await admin.execute(f"CREATE DATABASE {name} TEMPLATE {self.pg_template}")
            self.created_pg.append(name)
            return pg_dsn(name)
        finally:
            await admin.close()

    async def drop_all(self) -> None:
        if not self.created_pg and self.pg_template is None:
            return
        admin = await asyncpg.connect(PG_ADMIN_URL)
        try:
            for name in [*self.created_pg, self.pg_template]:
                if name:
                    await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await admin.close()


@dataclass
class Api:
    """An in-process client of a running app, with one tenant and its token."""

    client: httpx.AsyncClient
    tenant: Tenant
    token: str
    settings: Settings
    db: Database

    @property
    def project(self) -> str:
        return self.tenant.project_id

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def get_token(self, key_id: str, key_secret: str) -> str:
        reply = await self.client.post(
            "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(key_id, key_secret)
        )
        assert reply.status_code == 200, reply.text
        return str(reply.json()["access_token"])

    async def new_tenant(self, name: str = "other") -> tuple[Tenant, str]:
        async with self.db.transaction() as conn:
            tenant = await create_tenant(conn, int(time.time() * 1000), name)
        return tenant, await self.get_token(tenant.key_id, tenant.key_secret)

    def url(self, path: str) -> str:
        return f"/v1/projects/{self.project}{path}"

    def conv_url(self, path: str) -> str:
        return f"/conversation/v1/projects/{self.project}{path}"

    async def post(self, path: str, body: object) -> httpx.Response:
        return await self.client.post(self.url(path), json=body, headers=self.auth)

    async def get(self, path: str, **params: str) -> httpx.Response:
        return await self.client.get(self.url(path), params=params, headers=self.auth)

    async def delete(self, path: str, body: object) -> httpx.Response:
        return await self.client.request("DELETE", self.url(path), json=body, headers=self.auth)


@asynccontextmanager
async def running_api(
    settings: Settings, clock: Clock | None = None, engine: bool = False
) -> AsyncIterator[Api]:
    """The app in process; the engine only when asked, so API tests see stored state as is."""
    app = create_app(settings, clock=clock, engine=engine)
    async with app.router.lifespan_context(app):
        services = app.state.services
        async with services.db.transaction() as conn:
            tenant = await create_tenant(conn, services.now_ms())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://convbatch") as client:
            api = Api(client, tenant, "", settings, services.db)
            api.token = await api.get_token(tenant.key_id, tenant.key_secret)
            yield api


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """The real app behind uvicorn on a loopback port, in a thread with its own event loop."""

    def __init__(self, settings: Settings) -> None:
        self.port = free_port()
        self.settings = settings.with_(port=self.port)
        config = uvicorn.Config(
            create_app(self.settings), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve()), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("live server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
