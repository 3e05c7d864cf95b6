"""Measure the web console in a real browser (Debian's chromium driven by Playwright):

- how long a batch page of 1000 recipients takes to render (navigation start to the load
  event, and the server's part of it), p50 over several loads;
- how soon a count change reaches an open batch page: the time from the API call that changes
  the counts (cancelling a scheduled batch) to the page showing the new count, p50.

    python -m bench.console [--db sqlite|postgresql] [--loads 9]

A measurement, not a test: it asserts nothing about speed and prints what it saw."""

from __future__ import annotations

import argparse
import asyncio
import time

from playwright.async_api import Page, async_playwright

from bench.client import Api, batch_body, in_an_hour
from bench.harness import database, median, new_tenant, percentile
from bench.procs import Deployment, deploy

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
NAVIGATION = """() => {
  const n = performance.getEntriesByType('navigation')[0];
  return {server: n.responseStart - n.requestStart, total: n.loadEventEnd - n.startTime,
          ready: n.domContentLoadedEventEnd - n.startTime};
}"""
WATCH_CANCELLED = """() => {
  window.__changedAt = 0;
  const el = document.querySelector('dd[data-count=cancelled]');
  new MutationObserver(() => { if (!window.__changedAt) window.__changedAt = Date.now(); })
    .observe(el, {childList: true, characterData: true, subtree: true});
}"""


async def sign_in(page: Page, dep: Deployment) -> None:
    await page.goto(f"{dep.url}/console/sign-in")
    await page.get_by_label("Access key id").fill(dep.tenant.key_id)
    await page.get_by_label("Access key secret").fill(dep.tenant.key_secret)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/console/batches")


async def render_times(page: Page, api: Api, dep: Deployment, loads: int) -> dict[str, float]:
    batch_id = await api.post_batch(batch_body(dep.tenant.app_id, 1000))
    while (await api.status(batch_id))["status"] != "PROCESSED":
        await asyncio.sleep(0.2)
    url = f"{dep.url}/console/batches/{batch_id}"
    await page.goto(url)  # warm up: templates compiled, connections open
    server, total, ready = [], [], []
    for _ in range(loads):
        await page.goto(url, wait_until="load")
        timing = await page.evaluate(NAVIGATION)
        server.append(timing["server"])
        total.append(timing["total"])
        ready.append(timing["ready"])
    return {"server_p50": median(server), "load_p50": median(total), "ready_p50": median(ready),
            "load_p90": percentile(total, 90)}  # fmt: skip


async def changed_at(page: Page, timeout: float = 10) -> float:
    """When the page saw the change (its own clock; how often we ask does not matter)."""
    deadline = time.monotonic() + timeout
    while not (at := await page.evaluate("window.__changedAt")):
        if time.monotonic() > deadline:
            raise RuntimeError("the open page never showed the change")
        await asyncio.sleep(0.01)
    return float(at)


async def live_latencies(page: Page, api: Api, dep: Deployment, rounds: int) -> list[float]:
    found = []
    body = batch_body(dep.tenant.app_id, 10, send_after=in_an_hour())
    for _ in range(rounds):
        batch_id = await api.post_batch(body)
        await page.goto(f"{dep.url}/console/batches/{batch_id}")
        # The stream is open once its first event has been shown.
        await page.wait_for_selector("#live-counts[data-updated-at]")
        await page.evaluate(WATCH_CANCELLED)
        started = time.time() * 1000
        await api.call("DELETE", f"{api.base}/messages", f'{{"batch_id": "{batch_id}"}}'.encode())
        found.append(await changed_at(page) - started)
    return found


async def measure(dep: Deployment, loads: int) -> None:
    async with async_playwright() as pw, Api(dep) as api:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        await sign_in(page, dep)
        render = await render_times(page, api, dep, loads)
        live = await live_latencies(page, api, dep, loads)
        await browser.close()
    print(
        f"1000-recipient batch page ({loads} loads): load event p50 {render['load_p50']:.0f} ms"
        f" (p90 {render['load_p90']:.0f} ms), DOM ready p50 {render['ready_p50']:.0f} ms,"
        f" server response p50 {render['server_p50']:.0f} ms"
    )
    print(f"count change to open page ({loads} changes): p50 {median(live):.0f} ms, "
          f"max {max(live):.0f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--loads", type=int, default=9)
    args = parser.parse_args()
    with database(args.db) as db_url:
        tenant = asyncio.run(new_tenant(db_url))
        with deploy(args.db, db_url, workers=0) as dep:
            dep.tenant = tenant
            asyncio.run(measure(dep, args.loads))


if __name__ == "__main__":
    main()
