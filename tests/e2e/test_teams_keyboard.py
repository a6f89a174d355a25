"""The teams screens from the keyboard alone (issue 13): signing in, inviting and removing on the
members screen, the workspace switcher, and the signed-out overlay, which keeps the focus out of
the canvas under it. Keys are pressed on whatever has the focus; nothing is clicked."""

from __future__ import annotations

from tests.backend.conftest import TenantFixture
from tests.e2e.conftest import LiveServer
from tests.e2e.teams_support import api_as, focused, open_page, tab_to, unique_email  # noqa: F401
from tests.e2e.test_editor import eventually, open_canvas


async def test_sign_in_and_invite_from_the_keyboard(open_page, server: LiveServer, tenant: TenantFixture) -> None:
    """The sign-in form (opened by a link to the members screen) has the focus on its email field
    and submits with Enter; on the members screen Tab reaches the invite form, typing picks the role and Enter sends the invitation."""
    page = await open_page(server.url + "/settings/members")
    await page.get_by_test_id("signin-form").wait_for()
    assert await focused(page) == "signin-email"
    await page.keyboard.type(tenant.owner.email)
    await page.keyboard.press("Tab")
    await page.keyboard.type(tenant.owner.password)
    await page.keyboard.press("Enter")
    await page.get_by_test_id("invite-form").wait_for()   # signed in, on the page asked for
    await tab_to(page, "invite-email")
    address = unique_email("keys")
    await page.keyboard.type(address)
    await page.keyboard.press("Tab")
    assert await focused(page) == "invite-role"
    await page.keyboard.type("viewer")
    assert await page.get_by_test_id("invite-role").input_value() == "viewer"
    await page.keyboard.press("Tab")
    assert await focused(page) == "invite-submit"
    await page.keyboard.press("Enter")
    await page.get_by_test_id("invite-link").wait_for()
    await page.get_by_test_id(f"invitation-{address}").wait_for()
    r = await api_as(server, tenant.owner, "GET", "/api/members/invitations")
    assert [i["role"] for i in r.json()["items"] if i["email"] == address] == ["viewer"]


async def test_remove_a_member_and_switch_workspace_from_the_keyboard(sign_in, server: LiveServer,
                                                                      tenant: TenantFixture) -> None:
    """Enter on a member's Remove asks for a confirmation that has the focus, Enter confirms and the
    focus goes to the Members heading; the workspace switcher changes workspace with the arrow keys."""
    r = await api_as(server, tenant.owner, "POST", "/api/workspaces", json={"name": f"Keys {tenant.slug}"})
    assert r.status_code == 201, r.text
    page = await sign_in(tenant.owner)
    await page.goto(server.url + "/settings/members")
    await page.get_by_test_id("members-table").wait_for()
    remove = f"member-remove-{tenant.viewer.email}"
    await tab_to(page, remove)
    await page.keyboard.press("Enter")
    await page.get_by_test_id(f"member-remove-confirm-{tenant.viewer.email}").wait_for()
    assert await focused(page) == f"member-remove-confirm-{tenant.viewer.email}"
    await page.keyboard.press("Enter")
    await page.get_by_test_id(f"member-{tenant.viewer.email}").wait_for(state="detached")
    assert await page.evaluate("() => document.activeElement?.id") == "members-title", "the focus stays with the table"
    r = await api_as(server, tenant.owner, "GET", "/api/members")
    assert tenant.viewer.email not in [m["email"] for m in r.json()["items"]]

    await page.goto(server.url + "/")
    await page.get_by_test_id("me").wait_for()
    await tab_to(page, "workspace-switcher")
    before = await page.get_by_test_id("workspace-switcher").input_value()
    await page.keyboard.press("ArrowDown")

    async def switched() -> bool:
        me = await page.evaluate("() => fetch('/api/auth/me').then(r => r.json())")
        return me["tenant_id"] != before
    await eventually(switched, "the session is in the other workspace")


async def test_the_signed_out_overlay_keeps_the_focus_off_the_canvas(sign_in, server: LiveServer, tenant: TenantFixture,
                                                                    make_workflow) -> None:
    """Once signed out on the canvas, Tab cycles within the overlay: nothing under it (the
    palette, the top bar) takes the focus, and Enter on Sign in loads /signin."""
    wf = await make_workflow()
    page = await sign_in(tenant.editor)
    await open_canvas(page, server, wf["id"])
    await page.evaluate("() => window.dispatchEvent(new Event('maily:signed-out'))")
    await page.get_by_test_id("signed-out").wait_for()
    for _ in range(6):
        await page.keyboard.press("Tab")
        inside = await page.evaluate("""() => {
            const a = document.activeElement
            return a === document.body || !!a?.closest('[data-testid="signed-out"]')
        }""")
        assert inside, f"the focus left the overlay for {await focused(page)}"
    await page.get_by_test_id("signed-out-signin").focus()
    await page.keyboard.press("Enter")
    await page.wait_for_url(server.url + "/signin")
