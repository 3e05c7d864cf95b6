"""Batches in the console: counts that move live to the total, a recipient found by identity
with the text it received, and cancelling a scheduled batch."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.browser.conftest import Console, screenshot
from tests.browser.helpers import batch, eventually, in_an_hour, recipients

# Every state of the counters the page shows, recorded in the page as they change.
RECORD_CHANGES = """() => {
  const counts = document.querySelector('#live-counts');
  const now = () => Array.from(counts.querySelectorAll('dd[data-count]'),
                               (el) => el.textContent).join(',');
  window.__seen = [now()];
  window.__notReloaded = true;
  new MutationObserver(() => window.__seen.push(now()))
    .observe(counts, {childList: true, characterData: true, subtree: true});
}"""


async def test_counts_reach_the_total_without_a_reload(page: Page, console: Console) -> None:
    total = 300
    batch_id = await console.a.send(
        batch(console.app_a, recipients("+4670", total), batch_metadata={"campaign": "live"})
    )
    await page.goto(f"{console.url}/console/batches/{batch_id}")
    await page.evaluate(RECORD_CHANGES)
    done = page.locator("[data-count=done]")
    await expect(done).to_have_text(str(total), timeout=60_000)
    await expect(page.locator("[data-count=queued]")).to_have_text("0")
    # Receipts keep arriving after the last send: wait for every message to be delivered.
    delivered = page.locator("dd[data-count=delivered]")
    read = page.locator("dd[data-count=read]")

    async def all_delivered() -> bool:
        return int(await delivered.inner_text()) + int(await read.inner_text()) == total

    await eventually(all_delivered, timeout=60)
    await expect(page.locator("#batch-status")).to_have_text("PROCESSED")
    seen = await page.evaluate("window.__seen")
    assert await page.evaluate("window.__notReloaded") is True
    assert len(set(seen)) >= 2, f"the counts never moved while the page was open: {seen}"
    status = await console.a.status(batch_id)
    assert status["counts"]["delivered"] + status["counts"]["read"] == total
    await expect(page.get_by_text("Messages moved on since this table was loaded")).to_be_visible()
    await page.reload()
    await screenshot(page, "batch")
    await page.get_by_role("button", name="Dark theme").click()
    await screenshot(page, "batch-dark")


async def test_recipient_found_by_identity_shows_its_rendered_text(
    page: Page, console: Console
) -> None:
    batch_id = await console.a.send(batch(console.app_a, recipients("+4671", 120)))

    async def processed() -> bool:
        return (await console.a.status(batch_id))["status"] == "PROCESSED"

    await eventually(processed, timeout=60)
    await page.goto(f"{console.url}/console/batches/{batch_id}")
    await page.get_by_label("Identity contains").fill("+467100775")
    await page.get_by_role("button", name="Find").click()
    rows = page.locator("table.recipients tbody tr")
    await expect(rows).to_have_count(1)
    row = rows.first
    await expect(row.locator("td").nth(1)).to_have_text("+467100775")
    await expect(row.locator(".message-text")).to_have_text("Hi Person 77, your code is 1077")
    await expect(row.locator(".timeline")).to_contain_text("On channel")


async def test_batch_list_filters_by_status_and_metadata(page: Page, console: Console) -> None:
    tagged = await console.a.send(
        batch(console.app_a, recipients("+4672", 2), batch_metadata={"team": "filters"},
              send_after=in_an_hour())
    )  # fmt: skip
    other = await console.a.send(batch(console.app_a, recipients("+4673", 2)))
    await page.goto(f"{console.url}/console/batches")
    await page.get_by_label("Metadata key").fill("team")
    await page.get_by_label("Metadata value").fill("filters")
    await page.get_by_role("button", name="Filter").click()
    await expect(page.get_by_role("link", name=tagged)).to_be_visible()
    await expect(page.get_by_role("link", name=other)).to_have_count(0)
    await page.goto(f"{console.url}/console/batches?status=SCHEDULED")
    await expect(page.get_by_role("link", name=tagged)).to_be_visible()
    await expect(page.get_by_role("link", name=other)).to_have_count(0)
    await page.goto(f"{console.url}/console/batches")
    await expect(page.get_by_role("link", name=other)).to_be_visible()
    await screenshot(page, "batches")
    await page.get_by_role("button", name="Dark theme").click()
    await screenshot(page, "batches-dark")


async def test_scheduled_batch_is_cancelled_from_its_page(page: Page, console: Console) -> None:
    batch_id = await console.a.send(
        batch(console.app_a, recipients("+4674", 40), send_after=in_an_hour())
    )
    await page.goto(f"{console.url}/console/batches/{batch_id}")
    await expect(page.locator("#batch-status")).to_have_text("SCHEDULED")
    await screenshot(page, "batch-scheduled")
    await page.get_by_role("button", name="Cancel this batch").click()
    await expect(page.get_by_role("status")).to_have_text("The batch was cancelled.")
    await expect(page.locator("#batch-status")).to_have_text("CANCELLED")
    await expect(page.locator("dd[data-count=cancelled]")).to_have_text("40")
    await expect(page.get_by_role("button", name="Cancel this batch")).to_have_count(0)
    assert (await console.a.status(batch_id))["status"] == "CANCELLED"
