"""Webhooks in the console: targets without their secrets, and a delivery that gave up sent
again with the Re-drive button."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.browser.conftest import Console, screenshot
from tests.browser.helpers import batch, eventually, recipients
from tests.integration.webhook_kit import Receiver, receiver

SECRET = "console-webhook-secret"


async def add_webhook(console: Console, target: str) -> None:
    path = f"/conversation/v1/projects/{console.a.tenant.project_id}/webhooks"
    reply = await console.a.http.post(path, headers=console.a._auth, json={
        "app_id": console.app_a, "target": target, "target_type": "HTTP",
        "triggers": ["MESSAGE_DELIVERY"], "secret": SECRET})  # fmt: skip
    assert reply.status_code == 200, reply.text


async def test_a_refused_delivery_is_redriven_from_the_console(
    page: Page, console: Console
) -> None:
    async with receiver(default=400) as rx:
        await add_webhook(console, rx.url("/refuses"))
        # Ends in 04: one QUEUED_ON_CHANNEL receipt and nothing after, so one delivery.
        await console.a.send(batch(console.app_a, recipients("+4677", 1, suffix="04")))
        await eventually(lambda: _got(rx, 1))
        gave_up = page.get_by_role("region", name="Deliveries that gave up")

        async def refused_is_listed() -> bool:
            # The receiver answered; the sender records the outcome a moment later.
            await page.goto(f"{console.url}/console/webhooks")
            return await gave_up.get_by_text("HTTP 400").count() == 1

        await eventually(refused_is_listed)
        await expect(page.get_by_text(SECRET)).to_have_count(0)
        await expect(page.get_by_text("yes (secret set)")).to_be_visible()
        await screenshot(page, "webhooks")

        rx.default = 200
        await gave_up.get_by_role("button", name="Re-drive delivery").first.click()
        await expect(page.get_by_role("status")).to_have_text("1 delivery queued again.")
        await eventually(lambda: _got(rx, 2))
        assert rx.calls[1].body == rx.calls[0].body
        assert rx.calls[1].headers["x-sinch-webhook-signature"]

        async def delivered() -> bool:
            await page.reload()
            recent = page.get_by_role("region", name="Recent deliveries")
            return await recent.get_by_text("DELIVERED").count() >= 1

        await eventually(delivered)
        await expect(gave_up.get_by_text("HTTP 400")).to_have_count(0)
        await _remove_webhooks(console)


async def _got(rx: Receiver, count: int) -> bool:
    return len(rx.calls) >= count


async def _remove_webhooks(console: Console) -> None:
    base = f"/conversation/v1/projects/{console.a.tenant.project_id}"
    listed = await console.a.http.get(f"{base}/apps/{console.app_a}/webhooks",
                                      headers=console.a._auth)  # fmt: skip
    for hook in listed.json()["webhooks"]:
        await console.a.http.delete(f"{base}/webhooks/{hook['id']}", headers=console.a._auth)
