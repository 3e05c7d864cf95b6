"""Browser tests of the console: a real ``convbatch serve`` process on SQLite, two tenants,
and Debian's chromium driven by Playwright (never a downloaded browser). Every page a test
looks at can be saved as a 1280x800 PNG in ``tests/browser/artifacts/``."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.e2e.processes import Client, Cluster, Server, Tenant, create_tenant

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
VIEWPORT = {"width": 1280, "height": 800}
ARTIFACTS = Path(__file__).parent / "artifacts"
# The sandbox answers slowly enough that a batch's counts visibly move while a page is open.
SLOW_SANDBOX = {"latency_ms": 250, "delivered_delay_ms": 500}

# The machine may be shared and busy: give a page's expected state time to arrive.
expect.set_options(timeout=20_000)

if not Path(CHROMIUM).exists():
    # CI installs it (.ci/run); elsewhere the browser tests are skipped, never faked.
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing: .ci/run should have installed chromium")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)


@dataclass
class Console:
    server: Server
    a: Client  # the tenant whose key signs in
    b: Client  # another project
    app_a: str
    app_b: str

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="session")
def browser_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("browser-server")


@pytest.fixture(scope="session")
def console_cluster(browser_logs: Path) -> Iterator[tuple[Cluster, str]]:
    url = f"sqlite:///{browser_logs / 'console.db'}"
    # Small claims: a batch takes several dispatch rounds, so its counts change step by step.
    with Cluster.running(url, browser_logs, claim_limit=10) as cluster:
        cluster.env["CONVBATCH_OUTBOUND_ALLOW"] = "127.0.0.0/8,::1"
        yield cluster, url


@pytest.fixture(scope="session")
async def console(console_cluster: tuple[Cluster, str]) -> AsyncIterator[Console]:
    cluster, url = console_cluster
    tenants: list[Tenant] = [create_tenant(url), create_tenant(url)]
    server = cluster.server(engine=True)
    async with Client(server.url, tenants[0]) as a, Client(server.url, tenants[1]) as b:
        app_a = await a.create_app(driver_settings=SLOW_SANDBOX)
        app_b = await b.create_app()
        yield Console(server, a, b, app_a, app_b)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest.fixture
async def page(browser: Browser, console: Console) -> AsyncIterator[Page]:
    """A fresh browser context (no cookies) signed in as tenant A."""
    context = await browser.new_context(viewport=VIEWPORT)
    tab = await context.new_page()
    await sign_in(tab, console.url, console.a.tenant)
    yield tab
    await context.close()


async def sign_in(tab: Page, url: str, tenant: Tenant) -> None:
    await tab.goto(f"{url}/console/")
    await tab.get_by_label("Access key id").fill(tenant.key_id)
    await tab.get_by_label("Access key secret").fill(tenant.key_secret)
    await tab.get_by_role("button", name="Sign in").click()
    await tab.wait_for_url("**/console/batches")


async def screenshot(tab: Page, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    await tab.screenshot(path=str(path))
    return path
