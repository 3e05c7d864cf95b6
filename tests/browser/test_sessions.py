"""Signing in and out, forms refused without their token, and a session that sees only its own
project."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import VIEWPORT, Console, screenshot, sign_in
from tests.browser.helpers import batch, in_an_hour, recipients


async def test_sign_in_refuses_a_wrong_secret_then_signs_in_and_out(
    browser: Browser, console: Console
) -> None:
    context = await browser.new_context(viewport=VIEWPORT)
    tab = await context.new_page()
    await tab.goto(f"{console.url}/console/batches")
    await expect(tab).to_have_url(f"{console.url}/console/sign-in")
    await screenshot(tab, "sign-in")
    await tab.get_by_label("Access key id").fill(console.a.tenant.key_id)
    await tab.get_by_label("Access key secret").fill("not-the-secret")
    await tab.get_by_role("button", name="Sign in").click()
    await expect(tab.get_by_role("alert")).to_have_text("Unknown access key id or wrong secret.")

    await sign_in(tab, console.url, console.a.tenant)
    cookie = next(c for c in await context.cookies() if c["name"] == "cb_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["expires"] > 0
    await expect(tab.get_by_role("navigation", name="Console sections")).to_be_visible()

    await tab.get_by_role("button", name="Sign out").click()
    await expect(tab).to_have_url(f"{console.url}/console/sign-in")
    assert all(c["name"] != "cb_console" for c in await context.cookies())
    await tab.goto(f"{console.url}/console/webhooks")
    await expect(tab).to_have_url(f"{console.url}/console/sign-in")
    await context.close()


async def test_a_form_post_without_its_token_is_refused(page: Page, console: Console) -> None:
    batch_id = await console.a.send(
        batch(console.app_a, recipients("+4675", 3), send_after=in_an_hour())
    )
    cancel = f"{console.url}/console/batches/{batch_id}/cancel"
    # The session cookie rides along (same origin), but there is no form token, or a forged one.
    for form in ({}, {"csrf_token": "cbt1.forged.token"}):
        reply = await page.request.post(cancel, form=form, max_redirects=0)
        assert reply.status == 403, reply.status
    reply = await page.request.post(f"{console.url}/console/sign-out", form={}, max_redirects=0)
    assert reply.status == 403
    assert (await console.a.status(batch_id))["status"] == "SCHEDULED"
    # Still signed in: the refused sign-out did nothing.
    await page.goto(f"{console.url}/console/batches/{batch_id}")
    await expect(page.locator("#batch-status")).to_have_text("SCHEDULED")


async def test_a_session_of_project_a_cannot_read_or_cancel_project_b(
    page: Page, console: Console
) -> None:
    theirs = await console.b.send(
        batch(console.app_b, recipients("+4676", 3), send_after=in_an_hour(),
              batch_metadata={"owner": "project-b"})
    )  # fmt: skip
    reply = await page.goto(f"{console.url}/console/batches/{theirs}")
    assert reply is not None and reply.status == 404
    await expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    await expect(page.get_by_text("project-b")).to_have_count(0)

    live = await page.request.get(f"{console.url}/console/batches/{theirs}/live")
    assert "not found" in await live.text() and "project-b" not in await live.text()

    await page.goto(f"{console.url}/console/batches?key=owner&value=project-b")
    await expect(page.get_by_role("link", name=theirs)).to_have_count(0)

    # A valid form token of A's session does not reach B's batch either.
    await page.goto(f"{console.url}/console/batches")
    token = await page.locator("input[name=csrf_token]").first.get_attribute("value")
    cancel = f"{console.url}/console/batches/{theirs}/cancel"
    reply_post = await page.request.post(cancel, form={"csrf_token": token or ""})
    assert reply_post.status == 404
    assert (await console.b.status(theirs))["status"] == "SCHEDULED"


async def test_landmarks_labels_and_visible_keyboard_focus(page: Page, console: Console) -> None:
    await page.goto(f"{console.url}/console/batches")
    await expect(page.get_by_role("banner")).to_have_count(1)
    await expect(page.get_by_role("main")).to_have_count(1)
    await expect(page.get_by_role("navigation", name="Console sections")).to_be_visible()
    await expect(page.get_by_role("search", name="Filter batches")).to_be_visible()
    await expect(page.get_by_role("link", name="Batches")).to_have_attribute("aria-current", "page")
    for expected in ("Skip to content", "Batches", "Sandbox inbox"):
        await page.keyboard.press("Tab")
        focused = page.locator(":focus")
        await expect(focused).to_have_text(expected)
        style = await focused.evaluate("el => getComputedStyle(el).outlineStyle")
        assert style not in ("none", ""), (expected, style)
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{console.url}/console/inbox")


async def test_the_theme_follows_the_system_and_the_toggle_is_remembered(
    browser: Browser, console: Console
) -> None:
    background = "getComputedStyle(document.body).backgroundColor"
    context = await browser.new_context(viewport=VIEWPORT, color_scheme="dark")
    tab = await context.new_page()
    await sign_in(tab, console.url, console.a.tenant)
    dark = await tab.evaluate(background)
    toggle = tab.get_by_role("button", name="Dark theme")
    await expect(toggle).to_have_attribute("aria-pressed", "true")
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-pressed", "false")
    light = await tab.evaluate(background)
    await tab.goto(f"{console.url}/console/inbox")
    assert await tab.evaluate(background) == light != dark
    assert light == "rgb(246, 247, 249)", light
    await context.close()
