"""Accounts in the browser (issue 13): the first visitor's sign-up, the admin's plans, API tokens,
the account page, workspaces and the switcher, password reset. One sentence per test."""

from __future__ import annotations

from typing import Any

import httpx

from tests.backend.conftest import TenantFixture
from tests.e2e.conftest import LiveServer
from tests.e2e.teams_support import (GOOD_PASSWORD, api_as, empty_server, link_from_outbox,  # noqa: F401
                                     open_page, read_in, unique_email)
from tests.e2e.test_editor import eventually

NEW_PASSWORD = "a different long passphrase 7"


async def _status(page: Any, path: str) -> int:
    """The status of a GET from inside the page (its cookies, its session)."""
    return await page.evaluate("p => fetch(p, {credentials: 'same-origin'}).then(r => r.status)", path)


async def _json(page: Any, path: str) -> Any:
    return await page.evaluate("p => fetch(p, {credentials: 'same-origin'}).then(r => r.json())", path)


async def test_the_first_visitor_signs_up_becomes_admin_and_sets_a_plan(open_page, empty_server: LiveServer) -> None:
    """On an instance with no user the sign-in screen offers sign-up; the first account owns its
    new workspace, is the instance admin, and changes the workspace's plan on /admin, which the
    workspace settings then show."""
    page = await open_page(empty_server.url + "/")
    await page.get_by_test_id("first-user-signup").click()
    await page.get_by_test_id("signup-form").wait_for()
    await page.get_by_label("Your name").fill("Ada First")
    await page.get_by_label("Email").fill(unique_email("ada"))
    await page.get_by_test_id("signup-password").fill(GOOD_PASSWORD)
    await page.get_by_label("Workspace name").fill("First Team")
    await page.get_by_test_id("signup-submit").click()
    await page.get_by_test_id("me").wait_for()
    me = await _json(page, "/api/auth/me")
    assert me["is_admin"] is True and me["role"] == "owner", me

    await page.get_by_test_id("account-menu").click()
    await page.get_by_test_id("menu-admin").click()
    table = page.get_by_test_id("admin-table")
    await table.wait_for()
    ws = (await _json(page, "/api/workspaces/current"))
    await page.get_by_test_id(f"admin-tier-{ws['slug']}").select_option("premium")

    async def premium() -> bool:
        return (await _json(page, "/api/workspaces/current"))["tier"] == "premium"
    await eventually(premium, "the server has the workspace on premium")
    await page.goto(empty_server.url + "/settings/workspace")
    tier = page.get_by_test_id("workspace-tier")
    await tier.wait_for()
    assert await tier.inner_text() == "premium"
    await page.get_by_test_id("enhancements-table").wait_for()
    assert await page.locator("[data-testid^='enhancement-'][data-unlocked='true']").count() >= 1

    # the instance has a user now and sign-up is by invitation (the default): no sign-up link
    other = await open_page(empty_server.url + "/")
    await other.get_by_test_id("signin-form").wait_for()
    await other.get_by_test_id("forgot-password").wait_for()
    assert await other.get_by_test_id("signup-link").count() == 0
    assert await other.get_by_test_id("first-user").count() == 0


async def test_a_non_admin_sees_no_admin_menu_and_admin_refuses(sign_in, server: LiveServer, tenant: TenantFixture) -> None:
    """An owner who is not the instance admin has no Admin entry, and /admin shows the 403 detail."""
    page = await sign_in(tenant.owner)
    await page.get_by_test_id("account-menu").click()
    await page.get_by_test_id("menu-account").wait_for()
    assert await page.get_by_test_id("menu-admin").count() == 0
    await page.goto(server.url + "/admin")
    error = page.get_by_test_id("admin-error")
    await error.wait_for()
    assert await error.get_attribute("data-status") == "403"


async def test_a_read_only_token_is_shown_once_reads_cannot_write_and_is_revoked(
        sign_in, server: LiveServer, tenant: TenantFixture) -> None:
    """A read-only token created on /settings/tokens is shown once, reads but may not write, is
    listed by prefix as read-only, and answers 401 once revoked."""
    page = await sign_in(tenant.editor)
    await page.goto(server.url + "/settings/tokens")
    await page.get_by_label("Name", exact=True).fill("ci reader")
    await page.get_by_test_id("token-read-only").check()
    await page.get_by_test_id("token-create").click()
    token = await page.get_by_test_id("token-created-value").input_value()
    assert len(token) > 20
    row = page.get_by_test_id("token-ci reader")
    await row.wait_for()
    assert await page.get_by_test_id("token-access-ci reader").inner_text() == "read-only"
    assert token not in await row.inner_text(), "the list shows only the prefix"

    bearer = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as c:
        assert (await c.get("/api/workflows", headers=bearer)).status_code == 200
        assert (await c.post("/api/workflows", json={"name": "nope"}, headers=bearer)).status_code == 403

    await page.reload()
    await row.wait_for()
    assert await page.get_by_test_id("token-created").count() == 0, "the token is never shown again"
    await page.get_by_test_id("token-revoke-ci reader").click()
    await row.wait_for(state="detached")
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as c:
        assert (await c.get("/api/workflows", headers=bearer)).status_code == 401


async def test_the_account_page_renames_revokes_a_session_and_changes_the_password(
        sign_in, server: LiveServer, tenant: TenantFixture) -> None:
    """On /settings/account a person renames themselves, revokes their other browser's session
    (which stops working), sees a weak password refused by field, and changes the password, which
    signs out their other sessions and keeps this one."""
    page, elsewhere = await sign_in(tenant.owner), await sign_in(tenant.owner)
    await page.goto(server.url + "/settings/account")
    await page.get_by_label("Name", exact=True).fill("Olivia Owner")
    await page.get_by_test_id("account-name-save").click()
    await page.get_by_test_id("account-name-saved").wait_for()
    assert "Olivia Owner" in await page.get_by_test_id("account-menu").inner_text()

    await page.locator("tr[data-current]").wait_for()
    others = page.locator("[data-testid^='session-revoke-']")
    assert await others.count() >= 1, "the other browser's session is listed"
    # revoke every other session of this account: the other browser is one of them
    while (n := await others.count()):
        await others.first.click()
        await eventually(lambda: _count_below(others, n), "the revoked session leaves the list")
    assert await _status(elsewhere, "/api/auth/me") == 401
    assert await _status(page, "/api/auth/me") == 200

    third = await sign_in(tenant.owner)
    await page.get_by_label("Current password").fill(tenant.owner.password)
    await page.get_by_test_id("new-password").fill("short")
    await page.get_by_test_id("password-submit").click()
    error = page.get_by_test_id("password-error")
    await error.wait_for()
    assert await error.get_attribute("data-status") == "422"
    await page.get_by_test_id("new-password").fill(NEW_PASSWORD)
    await page.get_by_test_id("password-submit").click()
    await page.get_by_test_id("password-changed").wait_for()
    assert await _status(third, "/api/auth/me") == 401, "other sessions end with a password change"
    assert await _status(page, "/api/auth/me") == 200, "this session stays"
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as c:
        r = await c.post("/api/auth/login", json={"email": tenant.owner.email, "password": NEW_PASSWORD})
        assert r.status_code == 200, r.text


async def _count_below(locator: Any, n: int) -> bool:
    return await locator.count() < n


async def test_a_new_workspace_is_created_switched_to_and_switched_back_from_the_top_bar(
        sign_in, server: LiveServer, tenant: TenantFixture, make_workflow) -> None:
    """Creating a workspace on /settings/workspace switches to it (the list is empty there), and the
    top bar's switcher brings back the first workspace and its workflows."""
    wf = await make_workflow(name="switch")
    page = await sign_in(tenant.owner)
    await page.get_by_test_id(f"workflow-row-{wf['id']}").wait_for()
    await page.goto(server.url + "/settings/workspace")
    await page.get_by_test_id("enhancements-table").wait_for()
    await page.get_by_label("Name of the new workspace").fill("Side Project")

    await page.get_by_test_id("workspace-create").click()
    switcher = page.get_by_test_id("workspace-switcher")

    async def on_new() -> bool:
        return (await _json(page, "/api/auth/me"))["tenant_id"] != tenant.id
    await eventually(on_new, "the session is in the new workspace")
    await page.get_by_role("heading", name="Side Project").wait_for()
    await page.goto(server.url + "/")
    await page.get_by_text("No workflows yet.").wait_for()  # the new workspace's (empty) list has loaded
    assert await page.get_by_test_id(f"workflow-row-{wf['id']}").count() == 0

    await switcher.select_option(tenant.id)
    await page.get_by_test_id(f"workflow-row-{wf['id']}").wait_for()
    assert (await _json(page, "/api/auth/me"))["tenant_id"] == tenant.id


async def test_switching_workspace_on_the_canvas_goes_to_the_new_workspace_list(
        sign_in, server: LiveServer, tenant: TenantFixture, make_workflow) -> None:
    """Switching workspace from the canvas's top bar leaves the workflow (it belongs to the old
    workspace) for the new workspace's list."""
    r = await api_as(server, tenant.owner, "POST", "/api/workspaces", json={"name": f"Other {tenant.slug}"})
    assert r.status_code == 201, r.text
    other_id = r.json()["id"]
    wf = await make_workflow(name="canvas switch")
    page = await sign_in(tenant.owner)
    await page.goto(f"{server.url}/workflows/{wf['id']}")
    await page.get_by_test_id("collab-status").wait_for()
    await page.get_by_test_id("workspace-switcher").select_option(other_id)
    await page.wait_for_url(server.url + "/")
    await page.get_by_test_id("me").wait_for()
    assert (await _json(page, "/api/auth/me"))["tenant_id"] == other_id


async def test_forgot_password_answers_the_same_and_the_mailed_link_sets_a_new_one(
        open_page, empty_server: LiveServer) -> None:
    """"Forgot password?" says the same for an unknown and a known address, and the link mailed to
    the known one (read from its workspace's outbox) sets a new password that signs in."""
    address = unique_email("forgetful")
    owner = await open_page(empty_server.url + "/signup")
    await owner.get_by_label("Your name").fill("Fred Forgetful")
    await owner.get_by_label("Email").fill(address)
    await owner.get_by_test_id("signup-password").fill(GOOD_PASSWORD)
    await owner.get_by_label("Workspace name").fill("Forgetful Inc")
    await owner.get_by_test_id("signup-submit").click()
    await owner.get_by_test_id("me").wait_for()

    page = await open_page(empty_server.url + "/")
    await page.get_by_test_id("forgot-password").click()
    said = []
    for email in (unique_email("nobody"), address):
        await page.get_by_label("Email").fill(email)
        await page.get_by_test_id("forgot-submit").click()
        sent = page.get_by_test_id("forgot-sent")
        await sent.wait_for()
        said.append(await sent.inner_text())
    assert said[0] == said[1] == "If that address has an account, a link is on its way."

    token = await link_from_outbox(read_in(owner), address, "reset")
    await page.goto(f"{empty_server.url}/reset/{token}")
    await page.get_by_label("New password (10 characters or more)").fill(NEW_PASSWORD)
    await page.get_by_test_id("reset-submit").click()
    await page.get_by_test_id("reset-done").wait_for()
    await page.get_by_role("link", name="Sign in").click()
    await page.get_by_test_id("signin-email").fill(address)
    await page.get_by_test_id("signin-password").fill(NEW_PASSWORD)
    await page.get_by_test_id("signin-submit").click()
    await page.get_by_test_id("me").wait_for()
