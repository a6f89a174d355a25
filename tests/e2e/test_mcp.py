"""The Triggers panel's MCP tab, as people use it: an editor offers a published workflow as an MCP tool
and sees its tool name, the workflow then shows as exposed; a viewer sees the setting but cannot change it."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from tests.backend.conftest import TenantFixture
from tests.backend.triggers.conftest import simple_graph
from tests.e2e.conftest import LiveServer
from tests.e2e.test_triggers import open_triggers


async def test_an_editor_offers_the_workflow_as_a_tool(sign_in, server: LiveServer, tenant: TenantFixture,
                                                       make_workflow) -> None:
    """Ticking the MCP tab's box exposes the workflow (GET shows mcp_exposed) and names its tool."""
    wf = await make_workflow(simple_graph(), name="Order lookup")
    async with httpx.AsyncClient(base_url=server.url) as c:
        r = await c.post(f"/api/workflows/{wf['id']}/publish", json={}, headers=tenant.editor.headers)
        assert r.status_code == 201, r.text
    page = await sign_in(tenant.editor)
    await open_triggers(page, server, wf["id"])
    await page.get_by_test_id("triggers-tab-mcp").click()
    box = page.get_by_test_id("mcp-exposed")
    await box.click()   # checked once the server has it
    name = page.get_by_test_id("mcp-tool-name")
    await name.wait_for()
    assert "order_lookup_" in await name.inner_text() and wf["id"][:8] in await name.inner_text()
    async with httpx.AsyncClient(base_url=server.url) as c:
        got = (await c.get(f"/api/workflows/{wf['id']}", headers=tenant.editor.headers)).json()
    assert got["mcp_exposed"] is True


async def test_a_viewer_cannot_change_the_setting(sign_in, server: LiveServer, tenant: TenantFixture,
                                                  make_workflow) -> None:
    """For a viewer the box shows the setting and is disabled."""
    wf = await make_workflow(simple_graph())
    async with httpx.AsyncClient(base_url=server.url) as c:
        r = await c.put(f"/api/workflows/{wf['id']}/mcp", json={"exposed": True}, headers=tenant.editor.headers)
        assert r.status_code == 200, r.text
    page = await sign_in(tenant.viewer)
    await open_triggers(page, server, wf["id"])
    await page.get_by_test_id("triggers-tab-mcp").click()
    box = page.get_by_test_id("mcp-exposed")
    await expect(box).to_be_checked()   # once the workflow has loaded
    await expect(box).to_be_disabled()
