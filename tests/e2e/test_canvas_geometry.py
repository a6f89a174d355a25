"""The canvas's first draw in Chromium: node sizes and port handles given before React Flow measures them
(editor/src/canvas/geometry.ts), and the compact detail of a zoomed-out canvas (FlowNode)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.backend.conftest import TenantFixture
from tests.e2e.test_editor import open_canvas

# Four nodes with one, two and nine output ports, wired from different ports. `spread` moves them apart
# so that fitting them all takes the canvas below FlowNode's compact zoom.
def _graph(spread: float) -> dict[str, Any]:
    at = lambda x, y: {"x": x * spread, "y": y * spread}  # noqa: E731
    return {"schema_version": 1, "name": "geometry", "nodes": [
        {"id": "start", "type": "trigger.manual", "type_version": 1, "position": at(0, 0), "config": {}},
        {"id": "sw", "type": "logic.switch", "type_version": 1, "position": at(300, 0), "config": {}},
        {"id": "iff", "type": "logic.if", "type_version": 1, "position": at(600, 40), "config": {}},
        {"id": "put", "type": "data.set", "type_version": 1, "position": at(900, 200), "config": {}}],
        "edges": [
            {"id": "e1", "source": "start", "source_port": "output", "target": "sw", "target_port": "input"},
            {"id": "e2", "source": "sw", "source_port": "default", "target": "iff", "target_port": "input"},
            {"id": "e3", "source": "iff", "source_port": "false", "target": "put", "target_port": "input"},
            {"id": "e4", "source": "sw", "source_port": "case_3", "target": "put", "target_port": "input"}]}


# Run in the first animation frame that has every node shown and every edge drawn (before React Flow's
# ResizeObserver has reported anything), and again later: for each edge, where its path starts and ends,
# and where the port handles it joins are on screen, both in flow coordinates.
EDGE_ENDS = """ends => {
  const zoom = new DOMMatrix(getComputedStyle(document.querySelector('.react-flow__viewport')).transform).a
  const origin = el => {  // a node's flow position, from its own transform
    const m = new DOMMatrix(getComputedStyle(el).transform); return { x: m.e, y: m.f }
  }
  const handleAt = (nodeId, port, side) => {
    const node = document.querySelector(`.react-flow__node[data-id="${nodeId}"]`)
    const h = node.querySelector(`.react-flow__handle[data-handleid="${port}"]`).getBoundingClientRect()
    const n = node.getBoundingClientRect(), o = origin(node)
    return { x: o.x + ((side === 'out' ? h.right : h.left) - n.left) / zoom, y: o.y + (h.top + h.height / 2 - n.top) / zoom }
  }
  const out = {}
  for (const g of document.querySelectorAll('.react-flow__edge')) {
    const d = g.querySelector('.react-flow__edge-path').getAttribute('d')
    const nums = d.match(/-?[0-9.]+/g).map(Number)
    const [src, srcPort, tgt, tgtPort] = ends[g.dataset.id].split(' ')
    out[g.dataset.id] = { start: { x: nums[0], y: nums[1] }, end: { x: nums[nums.length - 2], y: nums[nums.length - 1] },
      from: handleAt(src, srcPort, 'out'), to: handleAt(tgt, tgtPort, 'in') }
  }
  return { zoom, edges: out, compact: document.querySelectorAll('.flow-node.compact').length,
           smallPrint: document.querySelectorAll('.flow-node-type, .port span').length }
}"""

FIRST_FRAME = """(edges, ends, measure) => {
  window.__first = null
  const grab = () => {
    const drawn = document.querySelectorAll('.react-flow__edge').length === edges
      && !document.querySelector('.react-flow__node[style*="visibility: hidden"]')
    if (!drawn) return requestAnimationFrame(grab)
    window.__first = measure(ends)
  }
  requestAnimationFrame(grab)
}"""


def _misplaced(seen: dict[str, Any]) -> list[str]:
    """Edges whose path does not start on its source port's handle or end on its target port's (0.5 px)."""
    bad = []
    for eid, e in seen["edges"].items():
        for end, handle in (("start", "from"), ("end", "to")):
            dx, dy = e[end]["x"] - e[handle]["x"], e[end]["y"] - e[handle]["y"]
            if abs(dx) > 0.5 or abs(dy) > 0.5:
                bad.append(f"{eid} {end} {e[end]} vs handle {e[handle]}")
    return bad


@pytest.mark.parametrize("spread", [1, 8], ids=["detailed", "compact"])
async def test_edges_meet_their_ports_from_the_first_frame_on(sign_in, server, tenant: TenantFixture, make_workflow,
                                                              spread: float) -> None:
    """In the very first frame that shows the graph, and after React Flow has measured it, every edge starts
    and ends on the handles of its ports, zoomed in with full detail and zoomed out with the compact nodes."""
    graph = _graph(spread)
    wf = await make_workflow(graph)
    ends = {e["id"]: f'{e["source"]} {e["source_port"]} {e["target"]} {e["target_port"]}' for e in graph["edges"]}
    page = await sign_in(tenant.editor)
    # The first-frame probe goes in before the page's own script, so it sees the first frame drawn.
    await page.add_init_script(f"({FIRST_FRAME})({len(graph['edges'])}, {json.dumps(ends)}, {EDGE_ENDS})")
    await open_canvas(page, server, wf["id"])
    first = await (await page.wait_for_function("() => window.__first")).json_value()
    await page.wait_for_timeout(800)  # the ResizeObserver's reports and anything they re-render
    later = await page.evaluate(EDGE_ENDS, ends)

    assert len(first["edges"]) == len(later["edges"]) == 4
    assert _misplaced(first) == [], "edges off their ports in the first frame"
    assert _misplaced(later) == [], "edges off their ports once measured"
    if spread == 1:
        assert first["zoom"] >= 0.45 and first["compact"] == 0 and first["smallPrint"] > 0
    else:
        assert first["zoom"] < 0.45 and first["compact"] == 4 and first["smallPrint"] == 0


async def test_zooming_in_brings_back_the_small_print(sign_in, server, tenant: TenantFixture, make_workflow) -> None:
    """A canvas that opens zoomed out draws compact nodes (label and handles, no type line or port names);
    zooming in past 0.45 draws the full nodes again, with their ports still wired."""
    wf = await make_workflow(_graph(8))
    page = await sign_in(tenant.editor)
    await open_canvas(page, server, wf["id"])
    assert await page.locator(".flow-node.compact").count() == 4
    assert await page.locator(".flow-node-type").count() == 0
    assert await page.get_by_test_id("node-label-sw").is_visible()
    assert await page.get_by_test_id("port-sw-out-case_3").count() == 1

    for _ in range(10):  # the Controls' zoom in: x1.2 a click
        if await page.locator(".flow-node.compact").count() == 0:
            break
        await page.locator(".react-flow__controls-zoomin").click()
    await page.locator(".flow-node:not(.compact)").first.wait_for()
    assert await page.locator(".flow-node.compact").count() == 0
    assert await page.locator(".flow-node-type").count() == 4
    assert "case_3" in await page.get_by_test_id("node-sw").inner_text()
    assert await page.locator(".react-flow__edge").count() == 4


async def test_a_graph_without_positions_or_configs_opens(sign_in, server, tenant: TenantFixture, make_workflow) -> None:
    """Nodes saved without `type_version`, `position` or `config` and edges without ports (the schema
    defaults them; templates and API clients may leave them out) are drawn as the defaults say: at the
    origin, wired output to input, and a node's form opens."""
    wf = await make_workflow({"schema_version": 1, "name": "bare", "edges": [
        {"id": "e1", "source": "start", "target": "put"}], "nodes": [
        {"id": "start", "type": "trigger.manual"}, {"id": "put", "type": "data.set", "type_version": 1}]})
    page = await sign_in(tenant.editor)
    await open_canvas(page, server, wf["id"])
    await page.locator(".react-flow__edge").first.wait_for(state="attached")
    assert await page.locator(".react-flow__edge").count() == 1
    await page.get_by_test_id("node-put").click(force=True)  # the two nodes overlap at the origin
    await page.get_by_test_id("side-panel").wait_for()
