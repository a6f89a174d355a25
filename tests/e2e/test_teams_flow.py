"""Teams in the browser (issue 13): an owner invites a colleague, who joins from the link in the
outbox, co-edits, and is signed out the moment the owner removes them; the members page's
refusals. One sentence per test; waits are on test ids, never on sleeps."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from backend.seed import welcome_graph
from tests.backend.conftest import TenantFixture
from tests.e2e.conftest import LiveServer
from tests.e2e.teams_support import (GOOD_PASSWORD, api_as, link_from_outbox, member_id, open_page,  # noqa: F401
                                     read_as, token_of, unique_email)
from tests.e2e.test_editor import eventually, open_canvas


async def _status(page: Any, path: str) -> int:
    """The status of a GET from inside the page (its cookies, its session)."""
    return await page.evaluate("p => fetch(p, {credentials: 'same-origin'}).then(r => r.status)", path)


async def test_an_invited_colleague_joins_co_edits_and_is_signed_out_when_removed(
        sign_in, open_page, server: LiveServer, tenant: TenantFixture, make_workflow) -> None:
    """The owner invites a colleague from /settings/members, the colleague signs up from the mailed
    link in a second browser, both see each other's cursor on one workflow, and removing the
    colleague drops their canvas to the signed-out overlay; signing in again says they are in no
    workspace."""
    wf = await make_workflow(welcome_graph())
    owner = await sign_in(tenant.owner)
    await owner.get_by_test_id("account-menu").click()
    await owner.get_by_test_id("menu-members").click()
    colleague_email = unique_email("colleague")
    await owner.get_by_test_id("invite-email").fill(colleague_email)
    await owner.get_by_test_id("invite-role").select_option("editor")
    await owner.get_by_test_id("invite-submit").click()
    shown = await owner.get_by_test_id("invite-link-value").input_value()
    await owner.get_by_test_id(f"invitation-{colleague_email}").wait_for()

    token = await link_from_outbox(read_as(server, tenant.owner), colleague_email, "invite")
    assert token_of(shown) == token, "the link shown once is the one mailed"

    # the colleague opens the mailed link (on this server's origin) in a browser of their own
    colleague = await open_page(f"{server.url}/invite/{token}")
    summary = colleague.get_by_test_id("invite-summary")
    await summary.wait_for()
    text = await summary.inner_text()
    assert "Owner e2e" in text and colleague_email in text and "editor" in text, text
    await colleague.get_by_label("Your name").fill("Colleague Cole")
    await colleague.get_by_test_id("invite-new-password").fill(GOOD_PASSWORD)
    await colleague.get_by_test_id("invite-accept").click()
    await colleague.get_by_test_id("me").wait_for()
    colleague_id = await member_id(server, tenant.owner, colleague_email)

    await asyncio.gather(open_canvas(owner, server, wf["id"]), open_canvas(colleague, server, wf["id"]))
    for page in (owner, colleague):
        await page.mouse.move(700, 600)
        await page.mouse.move(720, 640, steps=5)
    await owner.get_by_test_id(f"cursor-{colleague_id}").wait_for()
    await colleague.get_by_test_id(f"cursor-{tenant.owner.user_id}").wait_for()

    # the owner removes the colleague from a second tab of theirs; the colleague's canvas stays open
    members = await owner.context.new_page()
    await members.goto(f"{server.url}/settings/members")
    await members.get_by_test_id(f"member-remove-{colleague_email}").click()
    await members.get_by_test_id(f"member-remove-confirm-{colleague_email}").click()
    await members.get_by_test_id(f"member-{colleague_email}").wait_for(state="detached")
    await colleague.get_by_test_id("signed-out").wait_for()
    assert await colleague.get_by_test_id("signed-out-signin").get_attribute("href") == "/signin"
    assert await _status(colleague, "/api/auth/me") == 401, "the removed colleague's session no longer works"
    await members.close()

    # signing in again tells the colleague why there is nothing to open
    await colleague.get_by_test_id("signed-out-signin").click()
    await colleague.get_by_test_id("signin-email").fill(colleague_email)
    await colleague.get_by_test_id("signin-password").fill(GOOD_PASSWORD)
    await colleague.get_by_test_id("signin-submit").click()
    error = colleague.get_by_test_id("signin-error")
    await error.wait_for()
    assert "no workspace" in await error.inner_text()


async def test_the_last_owner_cannot_demote_themselves(sign_in, tenant: TenantFixture) -> None:
    """An owner who is the only owner and picks another role for themselves sees the server's
    refusal next to the table, and the select shows owner again."""
    page = await sign_in(tenant.owner)
    await page.goto(page.url.rstrip("/") + "/settings/members")
    select = page.get_by_test_id(f"member-role-{tenant.owner.email}")
    await select.select_option("viewer")
    error = page.get_by_test_id("members-error")
    await error.wait_for()
    assert await error.get_attribute("data-status") == "409"
    assert (await error.inner_text()).strip(), "the problem detail is shown"
    await eventually(lambda: _value_is(select, "owner"), "the role select shows owner again")


async def _value_is(locator: Any, value: str) -> bool:
    return await locator.input_value() == value


async def test_an_editor_sees_the_members_read_only(sign_in, tenant: TenantFixture) -> None:
    """An editor sees who is in the workspace but no invite form, role select or Remove button."""
    page = await sign_in(tenant.editor)
    await page.goto(page.url.rstrip("/") + "/settings/members")
    await page.get_by_test_id("members-readonly").wait_for()
    await page.get_by_test_id(f"member-{tenant.owner.email}").wait_for()
    assert await page.get_by_test_id("invite-form").count() == 0
    assert await page.locator("select[data-testid^='member-role-']").count() == 0
    assert await page.locator("[data-testid^='member-remove-']").count() == 0


async def test_an_owner_changes_a_role_and_resends_and_revokes_an_invitation(
        sign_in, server: LiveServer, tenant: TenantFixture) -> None:
    """An owner makes the viewer an editor, resends an invitation (a new link, shown once, that
    replaces the old one) and revokes it."""
    page = await sign_in(tenant.owner)
    await page.goto(f"{server.url}/settings/members")
    await page.get_by_test_id(f"member-role-{tenant.viewer.email}").select_option("editor")

    async def viewer_is_editor() -> bool:
        r = await api_as(server, tenant.owner, "GET", "/api/members")
        return any(m["email"] == tenant.viewer.email and m["role"] == "editor" for m in r.json()["items"])
    await eventually(viewer_is_editor, "the server has the viewer as an editor")

    address = unique_email("later")
    r = await api_as(server, tenant.owner, "POST", "/api/members/invitations", json={"email": address, "role": "viewer"})
    assert r.status_code == 201, r.text
    first_token = token_of(r.json()["url"])
    await page.reload()
    await page.get_by_test_id(f"invitation-resend-{address}").click()
    new_link = await page.get_by_test_id("resent-link-value").input_value()
    assert token_of(new_link) != first_token
    old_status = await _public_status(server, f"/api/invitations/{first_token}")
    assert old_status == 404, "the old link stopped working"
    await page.get_by_test_id(f"invitation-revoke-{address}").click()
    await page.get_by_test_id(f"invitation-{address}").wait_for(state="detached")
    r = await api_as(server, tenant.owner, "GET", "/api/members/invitations")
    assert all(i["email"] != address for i in r.json()["items"])


async def _public_status(server: LiveServer, path: str) -> int:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as c:
        return (await c.get(path)).status_code


async def test_used_and_revoked_invitation_links_say_why_they_do_not_work(
        open_page, server: LiveServer, tenant: TenantFixture) -> None:
    """A used invitation link says it was used (409) and a revoked one says it is not valid (404)."""
    used_email, revoked_email = unique_email("used"), unique_email("revoked")
    tokens = {}
    for address in (used_email, revoked_email):
        r = await api_as(server, tenant.owner, "POST", "/api/members/invitations", json={"email": address, "role": "viewer"})
        assert r.status_code == 201, r.text
        tokens[address] = (r.json()["id"], token_of(r.json()["url"]))
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as c:
        r = await c.post(f"/api/invitations/{tokens[used_email][1]}/accept", json={"name": "Used", "password": GOOD_PASSWORD})
        assert r.status_code == 201, r.text
    r = await api_as(server, tenant.owner, "DELETE", f"/api/members/invitations/{tokens[revoked_email][0]}")
    assert r.status_code == 204, r.text

    for address, status in ((used_email, "409"), (revoked_email, "404")):
        page = await open_page(f"{server.url}/invite/{tokens[address][1]}")
        dead = page.get_by_test_id("invite-dead")
        await dead.wait_for()
        assert await dead.get_attribute("data-status") == status
        assert await page.get_by_test_id("invite-accept").count() == 0


async def test_a_weak_password_on_the_invitation_page_names_the_field(
        open_page, server: LiveServer, tenant: TenantFixture) -> None:
    """A newcomer who picks a too-short password sees the server's 422 naming `password`, and the
    field is marked invalid."""
    r = await api_as(server, tenant.owner, "POST", "/api/members/invitations", json={"email": unique_email("weak"), "role": "editor"})
    assert r.status_code == 201, r.text
    page = await open_page(f"{server.url}/invite/{token_of(r.json()['url'])}")
    await page.get_by_label("Your name").fill("Weak Walter")
    await page.get_by_test_id("invite-new-password").fill("short")
    await page.get_by_test_id("invite-accept").click()
    error = page.get_by_test_id("invite-error")
    await error.wait_for()
    assert await error.get_attribute("data-status") == "422"
    assert await error.get_attribute("data-field") == "password"
    assert await page.get_by_test_id("invite-new-password").get_attribute("aria-invalid") == "true"
