"""The editor's own screens for people using a keyboard or a screen reader: the workflow list,
the canvas (palette, side panel, presence), the template gallery and the outbox have no critical
or serious axe-core violation, and the node palette adds a node from the keyboard. The teams
screens have theirs in test_teams_a11y.py."""

from __future__ import annotations

from typing import Any

from backend.seed import welcome_graph
from tests.backend.conftest import TenantFixture
from tests.e2e.conftest import LiveServer
from tests.e2e.teams_support import api_as, axe_violations, unique_email
from tests.e2e.test_editor import eventually, open_canvas, rest_graph


async def _assert_clean(page: Any, screen: str, within: str | None = None) -> None:
    found = await axe_violations(page, within)
    assert not found, f"{screen}:\n  " + "\n  ".join(found)


async def test_the_workflow_list_has_no_serious_axe_violation(sign_in, tenant: TenantFixture, make_workflow) -> None:
    """The workflow list with a workflow on it passes axe-core without a critical or serious violation."""
    wf = await make_workflow(welcome_graph())
    page = await sign_in(tenant.owner)
    await page.get_by_test_id(f"workflow-row-{wf['id']}").wait_for()
    await _assert_clean(page, "workflow list")


async def test_the_canvas_has_no_serious_axe_violation(sign_in, server: LiveServer, tenant: TenantFixture,
                                                       make_workflow) -> None:
    """The canvas (top bar, node palette, the drawn graph), its side panel on a selected node, the
    versions and runs panels, the shortcuts help and the run dialog pass axe-core without a critical or serious
    violation."""
    wf = await make_workflow(welcome_graph())
    page = await sign_in(tenant.editor)
    await open_canvas(page, server, wf["id"])
    await page.get_by_test_id("palette").wait_for()
    await _assert_clean(page, "canvas")
    await page.locator("[data-testid^='node-']").first.click()
    await page.get_by_test_id("side-panel").wait_for()
    await _assert_clean(page, "canvas with the side panel")
    for button, panel in (("versions-button", "versions-panel"), ("runs-button", "runs-panel")):
        await page.get_by_test_id(button).click()
        await page.get_by_test_id(panel).wait_for()
        await _assert_clean(page, f"canvas with the {panel}")
    await page.get_by_test_id("help-button").click()
    await page.get_by_test_id("help-panel").wait_for()
    await _assert_clean(page, "canvas with the shortcuts help")
    await page.get_by_test_id("help-close").click()
    await page.get_by_test_id("run-button").click()
    await page.get_by_test_id("run-dialog").wait_for()
    await _assert_clean(page, "canvas with the run dialog")
    await page.get_by_test_id("run-input-json-tab").click()
    await page.get_by_test_id("run-input-json").wait_for()
    await _assert_clean(page, "canvas with the run dialog's JSON input")


async def test_the_palette_adds_a_node_from_the_keyboard(sign_in, server: LiveServer, tenant: TenantFixture,
                                                         make_workflow) -> None:
    """A palette entry takes the focus with Tab and Enter adds its node to the workflow."""
    wf = await make_workflow({"nodes": [], "edges": []})
    page = await sign_in(tenant.editor)
    await open_canvas(page, server, wf["id"])
    await page.get_by_test_id("palette-search").focus()
    await page.keyboard.press("Tab")
    focused = await page.evaluate("() => document.activeElement?.dataset?.testid ?? null")
    assert focused and focused.startswith("palette-") and focused != "palette-search", focused
    await page.keyboard.press("Enter")

    async def added() -> bool:
        return len((await rest_graph(server, tenant.editor, wf["id"])).get("nodes", [])) == 1
    await eventually(added, "the node added from the keyboard is in the workflow")


async def test_the_template_gallery_and_the_outbox_have_no_serious_axe_violation(
        sign_in, server: LiveServer, tenant: TenantFixture) -> None:
    """The template gallery (with a template open) and the outbox, empty and with a message open,
    pass axe-core without a critical or serious violation."""
    page = await sign_in(tenant.owner)
    await page.goto(server.url + "/templates")
    card = page.locator("[data-testid^='template-card-']").first
    await card.wait_for()
    await _assert_clean(page, "template gallery")
    await card.click()
    await page.get_by_test_id("template-import-form").wait_for()
    await _assert_clean(page, "template gallery with a template open")
    await page.goto(server.url + "/outbox")
    await page.get_by_test_id("outbox-empty").wait_for()
    await _assert_clean(page, "outbox")

    # an invitation is mailed through the built-in outbox: a message with a text part to open
    r = await api_as(server, tenant.owner, "POST", "/api/members/invitations", json={"email": unique_email("a11y"), "role": "viewer"})
    assert r.status_code == 201, r.text
    await page.reload()
    await page.locator("[data-testid^='outbox-row-']").first.click()
    await page.get_by_test_id("outbox-text").wait_for()
    await _assert_clean(page, "outbox with a message open")
