"""Every canvas action without a mouse: add nodes from the palette, focus and select a node (its
panel opens), connect it to another through the connect dialog, and delete it."""

from __future__ import annotations

from typing import Any

from tests.backend.conftest import TenantFixture
from tests.e2e.conftest import LiveServer
from tests.e2e.test_editor import eventually, open_canvas, rest_graph


async def _add_from_palette(page: Any, query: str) -> None:
    await page.get_by_test_id("palette-search").focus()
    await page.keyboard.press("Control+A")
    await page.keyboard.type(query)
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")


async def _focused_testid(page: Any) -> str | None:
    return await page.evaluate("""() => {
        const el = document.activeElement
        return el?.querySelector?.('[data-testid^="node-"]')?.dataset?.testid ?? el?.dataset?.testid ?? null }""")


async def _tab_to_node(page: Any, node_id: str) -> None:
    """Tab (from the palette search) until the node has the focus."""
    await page.get_by_test_id("palette-search").focus()
    for _ in range(80):
        await page.keyboard.press("Tab")
        if await _focused_testid(page) == f"node-{node_id}":
            return
    raise AssertionError(f"Tab never reached node {node_id}; last focused: {await _focused_testid(page)}")


async def test_every_canvas_action_works_from_the_keyboard(sign_in, server: LiveServer, tenant: TenantFixture,
                                                           make_workflow) -> None:
    """Two nodes added from the palette with Enter, one selected with Tab and Enter (its panel opens),
    connected with C and the dialog, then deleted with Delete: the stored graph follows each step."""
    wf = await make_workflow({"nodes": [], "edges": []})
    page = await sign_in(tenant.editor)
    await open_canvas(page, server, wf["id"])

    async def nodes() -> list[dict[str, Any]]:
        return (await rest_graph(server, tenant.editor, wf["id"])).get("nodes", [])

    await _add_from_palette(page, "manual trigger")
    await eventually(lambda: _count(nodes, 1), "the trigger is added")
    await _add_from_palette(page, "set fields")
    graph_nodes = await eventually(lambda: _count(nodes, 2), "the second node is added")
    trigger = next(n["id"] for n in graph_nodes if n["type"] == "trigger.manual")
    other = next(n["id"] for n in graph_nodes if n["type"] != "trigger.manual")

    await _tab_to_node(page, trigger)
    await page.keyboard.press("Enter")
    await page.get_by_test_id("side-panel").wait_for()

    await page.keyboard.press("c")
    await page.get_by_test_id("connect-dialog").wait_for()
    assert await page.evaluate("() => document.activeElement?.dataset?.testid") == "connect-port"
    await page.get_by_test_id("connect-target").select_option(other)
    await page.get_by_test_id("connect-submit").focus()
    await page.keyboard.press("Enter")

    async def connected() -> bool:
        edges = (await rest_graph(server, tenant.editor, wf["id"])).get("edges", [])
        return [(e["source"], e["target"]) for e in edges] == [(trigger, other)]
    await eventually(connected, "the keyboard connection is an edge")

    await _tab_to_node(page, other)
    await page.keyboard.press("Enter")
    await page.get_by_test_id("side-panel").wait_for()
    await page.keyboard.press("Delete")

    async def deleted() -> bool:
        g = await rest_graph(server, tenant.editor, wf["id"])
        return [n["id"] for n in g["nodes"]] == [trigger] and g["edges"] == []
    await eventually(deleted, "the selected node and its edge are deleted")


async def test_a_dialog_keeps_the_focus_and_closes_with_escape(sign_in, server: LiveServer, tenant: TenantFixture,
                                                               make_workflow) -> None:
    """The run dialog is a named modal dialog; Tab stays inside it and Escape closes it, giving the focus back."""
    wf = await make_workflow({"nodes": [], "edges": []})
    page = await sign_in(tenant.editor)
    await open_canvas(page, server, wf["id"])
    await page.get_by_test_id("run-button").focus()
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Run workflow")
    await dialog.wait_for()
    assert await dialog.get_attribute("aria-modal") == "true"
    for _ in range(12):
        await page.keyboard.press("Tab")
        inside = await page.evaluate("() => !!document.activeElement?.closest('[role=dialog]')")
        assert inside, "Tab left the dialog"
    await page.keyboard.press("Escape")
    await dialog.wait_for(state="detached")
    assert await page.evaluate("() => document.activeElement?.dataset?.testid") == "run-button"


async def _count(nodes: Any, n: int) -> list[dict[str, Any]] | None:
    got = await nodes()
    return got if len(got) == n else None
