"""The sandbox inbox: messages arrive on an open page without a reload, newest first, and a
search by identity finds one recipient's messages across batches."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.browser.conftest import Console, screenshot
from tests.browser.helpers import batch, recipients


async def test_messages_arrive_live_and_search_finds_an_identity(
    page: Page, console: Console
) -> None:
    await page.goto(f"{console.url}/console/inbox?q=%2B4678")
    await page.evaluate("window.__notReloaded = true")
    people = recipients("+4678", 3)
    await console.a.send(batch(console.app_a, people))
    conversations = page.get_by_role("navigation", name="Conversations by identity")
    for identity in ("+467800005", "+467800015", "+467800025"):
        await expect(conversations.get_by_text(identity)).to_be_visible(timeout=30_000)
    thread = page.locator("#thread li")
    await expect(thread.first).to_contain_text("your code is")
    assert await page.evaluate("window.__notReloaded") is True

    # A second batch to the same person: the phone shows both, newest first.
    people[1]["parameters"] = {"name": "Again", "code": "42"}
    await console.a.send(batch(console.app_a, [people[1]]))
    await page.goto(f"{console.url}/console/inbox")
    await page.get_by_label("Identity contains").fill("467800015")
    await page.get_by_role("button", name="Search").click()
    await expect(conversations.locator("li")).to_have_count(1)
    phone = page.get_by_role("region", name="+467800015")
    bubbles = phone.locator("li.bubble p")
    await expect(bubbles).to_have_count(2, timeout=30_000)
    await expect(bubbles.nth(0)).to_have_text("Hi Again, your code is 42")
    await expect(bubbles.nth(1)).to_have_text("Hi Person 1, your code is 1001")
    await page.goto(f"{console.url}/console/inbox")
    await screenshot(page, "inbox")
