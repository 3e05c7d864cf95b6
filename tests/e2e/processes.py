"""Real convbatch processes for the end-to-end tests: API servers and engine workers started
through the CLI with ``CONVBATCH_*`` settings in their environment, stopped gracefully or killed
with SIGKILL, plus a tenant and an HTTP client of the Batch API.

Each process writes its output to a log file, so a failing test can show what it said."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import httpx

from convbatch.config import Settings
from tests.support import LOOPBACK_ALLOW, TEST_SECRET_KEY, free_port

CLI = [sys.executable, "-m", "convbatch"]
# Engine settings for crash tests: a killed process's claims come back after two seconds, and
# idle loops poll often so the tests do not wait on timers.
FAST_ENGINE: dict[str, Any] = {
    "lease_ms": 2000, "poll_ms": 20, "tick_ms": 50, "reap_ms": 200, "retry_base_ms": 40,
    "log_level": "warning",
}  # fmt: skip
_SETTING_NAMES = {f.name for f in fields(Settings)}


def environment(database_url: str, **settings: Any) -> dict[str, str]:
    """This process's environment without any outside engine tuning, plus ``settings``."""
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("CONVBATCH_") and k[10:].lower() in _SETTING_NAMES)}  # fmt: skip
    env["CONVBATCH_DATABASE_URL"] = database_url
    env["PYTHONUNBUFFERED"] = "1"
    # Receivers and upstreams of these tests listen on loopback; all processes share one key.
    env.setdefault("CONVBATCH_OUTBOUND_ALLOW", LOOPBACK_ALLOW)
    env["CONVBATCH_SECRET_KEY"] = TEST_SECRET_KEY
    for name, value in settings.items():
        assert name in _SETTING_NAMES, f"unknown setting {name}"
        env[f"CONVBATCH_{name.upper()}"] = str(value)
    return env


@dataclass(frozen=True)
class Tenant:
    project_id: str
    key_id: str
    key_secret: str


def _cli_json(database_url: str, *args: str) -> dict[str, Any]:
    done = subprocess.run([*CLI, *args, "--json"], env=environment(database_url),
                          capture_output=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return dict(json.loads(done.stdout))


def create_tenant(database_url: str) -> Tenant:
    """A project and an access key made with the admin CLI (which also migrates the database).
    Apps are made through the Conversation API (``Client.create_app``)."""
    project = _cli_json(database_url, "projects", "create")["project_id"]
    key = _cli_json(database_url, "keys", "create", "--project", project)
    return Tenant(project, key["key_id"], key["key_secret"])


class Process:
    """One ``convbatch`` command that can be started again after it stopped or was killed."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name, self.args, self.env = name, args, env
        self.log_path = log_dir / f"{name}.log"
        self.popen: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> Process:
        assert not self.alive, f"{self.name} is already running"
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts + 1} at {time.time():.3f}\n".encode())
            log.flush()
            self.popen = subprocess.Popen([*CLI, *self.args], env=self.env, stdout=log,
                                          stderr=subprocess.STDOUT)  # fmt: skip
        self.starts += 1
        return self

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen is not None else None

    def kill(self) -> None:
        """SIGKILL: no drain, no release of claims, an open transaction is lost."""
        if self.popen is not None and self.alive:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(timeout=10)

    def terminate(self) -> None:
        """SIGTERM: ask for a graceful stop (drain, release claims) without waiting for it."""
        if self.popen is not None and self.alive:
            self.popen.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 20) -> int | None:
        """SIGTERM and wait for the drain; killed if it takes longer than ``timeout``."""
        if self.popen is None:
            return None
        self.terminate()
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        return self.popen.returncode

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


class Server(Process):
    """``convbatch serve`` on a fixed loopback port (kept across restarts)."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path, engine: bool) -> None:
        self.port = free_port()
        args = ["serve", "--port", str(self.port), *([] if engine else ["--no-engine"])]
        super().__init__(name, args, env, log_dir)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        super().start()
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive:
                raise RuntimeError(f"{self.name} exited:\n{self.log_tail()}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as reply,
            ):
                if reply.status == 200:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not answer /healthz:\n{self.log_tail()}")


class Cluster:
    """The processes of one test on one database; ``close`` leaves none running."""

    def __init__(self, database_url: str, log_dir: Path, **settings: Any) -> None:
        self.database_url = database_url
        self.log_dir = log_dir
        self.env = environment(database_url, **{**FAST_ENGINE, **settings})
        self.processes: list[Process] = []

    def server(self, engine: bool = True, name: str = "server") -> Server:
        server = Server(name, self.env, self.log_dir, engine)
        self.processes.append(server)
        return server.start()

    def worker(self, name: str) -> Process:
        worker = Process(name, ["worker"], self.env, self.log_dir)
        self.processes.append(worker)
        return worker.start()

    def deployment(self, workers: int = 1) -> Server:
        """The usual layout for the database: one embedded server on SQLite; on PostgreSQL an
        API-only server and ``workers`` engine workers."""
        if self.database_url.startswith("sqlite"):
            return self.server(engine=True)
        for i in range(workers):
            self.worker(f"worker-{i}")
        return self.server(engine=False, name="api")

    def stop_all(self, timeout: float = 20) -> list[int | None]:
        """SIGTERM every process at once, then wait for each to drain; their exit codes."""
        for process in self.processes:
            process.terminate()
        return [process.stop(timeout) for process in self.processes]

    def start_all(self) -> None:
        for process in self.processes:
            process.start()

    def close(self) -> None:
        self.stop_all(timeout=10)

    def errors(self) -> list[str]:
        """Error lines the processes logged (a failed round, a deadlock, a crashed task)."""
        found = []
        for process in self.processes:
            if process.log_path.exists():
                lines = process.log_path.read_text(errors="replace").splitlines()
                found += [f"{process.name}: {line}" for line in lines if "[error" in line]
        return found

    def logs(self) -> str:
        return "\n".join(f"== {p.name}\n{p.log_tail()}" for p in self.processes)

    @classmethod
    @contextlib.contextmanager
    def running(cls, database_url: str, log_dir: Path, **settings: Any) -> Iterator[Cluster]:
        cluster = cls(database_url, log_dir, **settings)
        try:
            yield cluster
        except BaseException:
            print(cluster.logs(), file=sys.stderr)
            raise
        finally:
            cluster.close()


class Client:
    """The Batch and Conversation APIs of a running server, as one tenant."""

    def __init__(self, base_url: str, tenant: Tenant) -> None:
        self.tenant = tenant
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30)
        self.token = ""

    async def __aenter__(self) -> Client:
        reply = await self.http.post(
            "/oauth2/token", data={"grant_type": "client_credentials"},
            auth=(self.tenant.key_id, self.tenant.key_secret),
        )  # fmt: skip
        assert reply.status_code == 200, reply.text
        self.token = reply.json()["access_token"]
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.http.aclose()

    def _url(self, path: str) -> str:
        return f"/v1/projects/{self.tenant.project_id}{path}"

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def send(self, body: dict[str, Any]) -> str:
        reply = await self.http.post(self._url("/messages"), json=body, headers=self._auth)
        assert reply.status_code == 200, reply.text
        return str(reply.json()["batch_id"])

    async def send_all(self, bodies: list[dict[str, Any]], concurrency: int = 4) -> list[str]:
        """POST every body, ``concurrency`` at a time; batch ids in the order of ``bodies``."""
        gate = asyncio.Semaphore(concurrency)

        async def one(body: dict[str, Any]) -> str:
            async with gate:
                return await self.send(body)

        return list(await asyncio.gather(*(one(b) for b in bodies)))

    async def status(self, batch_id: str) -> dict[str, Any]:
        reply = await self.http.get(self._url(f"/messages/{batch_id}"), headers=self._auth)
        assert reply.status_code == 200, reply.text
        return dict(reply.json())

    async def cancel(self, body: dict[str, Any]) -> None:
        reply = await self.http.request(
            "DELETE", self._url("/messages"), json=body, headers=self._auth
        )
        assert reply.status_code == 200, reply.text

    async def create_app(
        self, rate_limit: float | None = None, driver_settings: dict[str, Any] | None = None,
        driver: str = "sandbox", **channel_fields: Any,
    ) -> str:  # fmt: skip
        """An app whose SMS channel is the sandbox (or ``driver``), optionally rate limited;
        returns its id."""
        channel: dict[str, Any] = {
            "channel": "SMS", "static_bearer": {"claimed_identity": "x", "token": "y"},
            "driver": driver, "driver_settings": driver_settings or {}, **channel_fields,
        }  # fmt: skip
        if rate_limit is not None:
            channel["rate_limit"] = rate_limit
        body = {"display_name": "e2e", "channel_credentials": [channel]}
        path = f"/conversation/v1/projects/{self.tenant.project_id}/apps"
        reply = await self.http.post(path, json=body, headers=self._auth)
        assert reply.status_code == 200, reply.text
        return str(reply.json()["id"])
