"""The teams screens for people using a keyboard or a screen reader: no critical or serious
axe-core violation on any of them, and the account menu works without a mouse."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from sqlalchemy import text

from backend.db.session import Database
from tests.backend.conftest import Member, TenantFixture
from tests.e2e.conftest import LiveServer
from tests.e2e.teams_support import api_as, axe_violations, empty_server, focused, open_page, token_of, unique_email  # noqa: F401


async def _assert_clean(page: Any, screen: str, within: str | None = None) -> None:
    found = await axe_violations(page, within)
    assert not found, f"{screen}:\n  " + "\n  ".join(found)


async def test_the_signed_out_screens_have_no_serious_axe_violation(open_page, server: LiveServer,
                                                                    tenant: TenantFixture) -> None:
    """Sign-in, forgot password, sign-up (on an instance with users, invitation only) and the reset
    page pass axe-core without a critical or serious violation."""
    page = await open_page(server.url + "/")
    await page.get_by_test_id("signin-form").wait_for()
    await _assert_clean(page, "sign-in")
    await page.get_by_test_id("forgot-password").click()
    await page.get_by_test_id("forgot-form").wait_for()
    await _assert_clean(page, "forgot password")

    await page.goto(server.url + "/signup")  # invitation only here: the page says so
    await page.get_by_test_id("signup-closed").wait_for()
    await _assert_clean(page, "sign-up (invitation only)")

    await page.goto(f"{server.url}/reset/{secrets.token_urlsafe(16)}")
    await page.get_by_test_id("reset-form").wait_for()
    await _assert_clean(page, "reset password")


async def test_the_sign_up_form_has_no_serious_axe_violation(open_page, empty_server: LiveServer) -> None:
    """The sign-up form a first visitor gets (and its refusal of a weak password) passes axe-core
    without a critical or serious violation."""
    page = await open_page(empty_server.url + "/signup")
    await page.get_by_test_id("signup-form").wait_for()
    await _assert_clean(page, "sign-up")
    await page.get_by_label("Your name").fill("Axe Person")
    await page.get_by_label("Email").fill(unique_email("axe"))
    await page.get_by_test_id("signup-password").fill("short")
    await page.get_by_label("Workspace name").fill("Axe Team")
    await page.get_by_test_id("signup-submit").click()
    await page.get_by_test_id("signup-error").wait_for()
    await _assert_clean(page, "sign-up with a refusal")


async def test_the_invitation_page_has_no_serious_axe_violation(open_page, server: LiveServer, tenant: TenantFixture) -> None:
    """The invitation page, with a valid link (the newcomer's form) and with a dead one, passes
    axe-core without a critical or serious violation."""
    r = await api_as(server, tenant.owner, "POST", "/api/members/invitations", json={"email": unique_email("a11y"), "role": "editor"})
    assert r.status_code == 201, r.text
    page = await open_page(f"{server.url}/invite/{token_of(r.json()['url'])}")
    await page.get_by_test_id("invite-signup-form").wait_for()
    await _assert_clean(page, "invitation")
    await page.goto(f"{server.url}/invite/{secrets.token_urlsafe(16)}")
    await page.get_by_test_id("invite-dead").wait_for()
    await _assert_clean(page, "dead invitation")


async def _make_admin(db: Database, member: Member) -> None:
    async with db.sessionmaker() as s, s.begin():
        await s.execute(text("UPDATE users SET is_admin = :yes WHERE id = :id"), {"yes": True, "id": member.user_id})


@pytest.mark.parametrize(("path", "ready"), [
    ("/settings/account", "sessions-table"),
    ("/settings/tokens", "tokens-table"),
    ("/settings/workspace", "enhancements-table"),
    ("/admin", "admin-table"),
])
async def test_a_settings_screen_has_no_serious_axe_violation(
        sign_in, server: LiveServer, tenant: TenantFixture, e2e_db: Database, path: str, ready: str) -> None:
    """Each settings screen, filled (the tokens screen lists the fixture's token), passes axe-core
    without a critical or serious violation, as does the open account menu over the list."""
    await _make_admin(e2e_db, tenant.owner)
    page = await sign_in(tenant.owner)
    await page.get_by_test_id("account-menu").click()
    await page.get_by_test_id("menu-admin").wait_for()
    await _assert_clean(page, "workflow list with the account menu open")
    await page.goto(server.url + path)
    await page.get_by_test_id(ready).wait_for()
    await _assert_clean(page, path)


async def test_the_members_screen_has_no_serious_axe_violation(sign_in, server: LiveServer, tenant: TenantFixture) -> None:
    """The members screen with a pending invitation, and with a new link shown once, passes
    axe-core without a critical or serious violation."""
    r = await api_as(server, tenant.owner, "POST", "/api/members/invitations", json={"email": unique_email("pending"), "role": "viewer"})
    assert r.status_code == 201, r.text
    page = await sign_in(tenant.owner)
    await page.goto(server.url + "/settings/members")
    await page.get_by_test_id("invitations-table").wait_for()
    await _assert_clean(page, "members")
    await page.get_by_test_id("invite-email").fill(unique_email("shown"))
    await page.get_by_test_id("invite-submit").click()
    await page.get_by_test_id("invite-link").wait_for()
    await _assert_clean(page, "members with a new link")


async def test_the_signed_out_overlay_takes_focus_and_passes_axe(sign_in, server: LiveServer, tenant: TenantFixture,
                                                                 make_workflow) -> None:
    """When the canvas learns it is signed out, the overlay shows, its Sign-in link has the focus,
    and it passes axe-core."""
    wf = await make_workflow()
    page = await sign_in(tenant.editor)
    await page.goto(f"{server.url}/workflows/{wf['id']}")
    await page.get_by_test_id("collab-status").wait_for()
    await page.evaluate("() => window.dispatchEvent(new Event('maily:signed-out'))")
    await page.get_by_test_id("signed-out").wait_for()
    focused = await page.evaluate("() => document.activeElement?.dataset?.testid")
    assert focused == "signed-out-signin"
    # the overlay itself (the canvas under it is the editor's own business)
    await _assert_clean(page, "signed-out overlay", '[data-testid="signed-out"]')


async def test_the_account_menu_works_from_the_keyboard(sign_in, server: LiveServer, tenant: TenantFixture) -> None:
    """Tab reaches the account menu, Enter opens it, Tab reaches its items with a visible focus
    ring, Escape closes it and gives the focus back, and Enter on an item opens that screen."""
    page = await sign_in(tenant.owner)
    for _ in range(30):
        if await focused(page) == "account-menu":
            break
        await page.keyboard.press("Tab")
    assert await focused(page) == "account-menu"
    await page.keyboard.press("Enter")
    await page.get_by_test_id("menu-members").wait_for()
    await page.keyboard.press("Tab")
    assert await focused(page) == "menu-members"
    outline = await page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), "the focused item shows a focus ring"
    await page.keyboard.press("Escape")
    await page.get_by_test_id("menu-members").wait_for(state="detached")
    assert await focused(page) == "account-menu"
    await page.keyboard.press("Enter")
    await page.get_by_test_id("menu-account").focus()
    await page.keyboard.press("Enter")
    await page.get_by_test_id("screen-account").wait_for()
    assert page.url == server.url + "/settings/account"


async def test_shown_once_values_and_refusals_have_no_serious_axe_violation(sign_in, server: LiveServer,
                                                                            tenant: TenantFixture) -> None:
    """A new API token shown once, the account screen refusing a weak password, and the invitation
    page for someone signed in (join with one click) pass axe-core without a critical or serious
    violation."""
    page = await sign_in(tenant.editor)
    await page.goto(server.url + "/settings/tokens")
    await page.get_by_label("Name", exact=True).fill("axe token")
    await page.get_by_test_id("token-create").click()
    await page.get_by_test_id("token-created").wait_for()
    await _assert_clean(page, "tokens with a token shown once")

    await page.goto(server.url + "/settings/account")
    await page.get_by_label("Current password").fill(tenant.editor.password)
    await page.get_by_test_id("new-password").fill("short")
    await page.get_by_test_id("password-submit").click()
    await page.get_by_test_id("password-error").wait_for()
    await _assert_clean(page, "account with a refused password")

    # the owner invites the editor to another workspace of theirs, from the members screen there
    owner = await sign_in(tenant.owner)
    await owner.goto(server.url + "/settings/workspace")
    await owner.get_by_label("Name of the new workspace").fill("Axe Join")
    await owner.get_by_test_id("workspace-create").click()
    await owner.get_by_role("heading", name="Axe Join").wait_for()
    await owner.goto(server.url + "/settings/members")
    await owner.get_by_test_id("invite-email").fill(tenant.editor.email)
    await owner.get_by_test_id("invite-submit").click()
    link = await owner.get_by_test_id("invite-link-value").input_value()
    await page.goto(f"{server.url}/invite/{token_of(link)}")
    await page.get_by_test_id("invite-join-form").wait_for()
    await _assert_clean(page, "invitation for someone signed in")
