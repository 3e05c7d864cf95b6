"""Contacts and consents: searchable lists of what the project stored."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.browser.conftest import Console, screenshot
from tests.browser.helpers import eventually


async def test_contacts_and_consents_are_listed_and_searchable(
    page: Page, console: Console
) -> None:
    base = f"/conversation/v1/projects/{console.a.tenant.project_id}"
    for name, number in (("Ada Lovelace", "+46790001"), ("Alan Turing", "+46790002")):
        reply = await console.a.http.post(f"{base}/contacts", headers=console.a._auth, json={
            "channel_identities": [{"channel": "SMS", "identity": number}],
            "language": "EN_US", "display_name": name, "email": f"{name.split()[0]}@example.org",
            "channel_priority": ["SMS"]})  # fmt: skip
        assert reply.status_code == 200, reply.text
    await page.goto(f"{console.url}/console/contacts")
    await page.get_by_label("Name, identity, email or external id contains").fill("Turing")
    await page.get_by_role("button", name="Search").click()
    rows = page.locator("table.list tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("+46790002")
    await page.goto(f"{console.url}/console/contacts")
    await screenshot(page, "contacts")

    path = f"/v1/projects/{console.a.tenant.project_id}/consents"
    reply = await console.a.http.post(path, headers=console.a._auth, json={
        "app_id": console.app_a, "consent_records": [
            {"identification": "+46790003", "consent_type": "OPT_OUT_MARKETING"},
            {"identification": "+46790004"}]})  # fmt: skip
    assert reply.status_code == 200, reply.text

    async def listed() -> bool:
        await page.goto(f"{console.url}/console/consents?q=4679000")
        return await page.locator("table.list tbody tr").count() == 2

    await eventually(listed)
    await page.get_by_label("Identity contains").fill("90004")
    await page.get_by_role("button", name="Search").click()
    rows = page.locator("table.list tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("OPT_OUT_ALL")
    await page.goto(f"{console.url}/console/consents")
    await screenshot(page, "consents")
