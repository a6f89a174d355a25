"""The editor in Chromium, as people use it: one sentence per test.

Waits are on test ids and their states (`data-status`, counts, values), never on sleeps; the
server side is read through the REST API (`GET /api/workflows/{id}` answers from the live
document while a room is open)."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Awaitable, Callable

import httpx
import pytest
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from backend.seed import welcome_graph
from tests.backend.conftest import Member, TenantFixture
from tests.e2e.conftest import LiveServer

NODES = '[data-testid^="node-"][data-type]'


# ---------------------------------------------------------------- helpers


async def eventually(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 10.0) -> Any:
    """Poll `check` until it returns something truthy; fail with the last value after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = await check()
        if last:
            return last
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting until {what}; last seen: {last!r}")
        await asyncio.sleep(0.1)


async def rest_graph(server: LiveServer, member: Member, workflow_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as c:
        r = await c.get(f"/api/workflows/{workflow_id}", headers=member.headers)
        assert r.status_code == 200, r.text
        return r.json()["graph"]


def by_id(graph: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["id"]: n for n in graph.get("nodes", [])}


async def open_canvas(page: Any, server: LiveServer, workflow_id: str) -> None:
    await page.goto(f"{server.url}/workflows/{workflow_id}")
    await live(page)


async def live(page: Any) -> None:
    await page.locator('[data-testid="collab-status"][data-status="live"]').wait_for()


async def screen_nodes(page: Any) -> dict[str, str]:
    """Node id -> type, for every node drawn on the canvas."""
    return await page.evaluate(
        """sel => Object.fromEntries([...document.querySelectorAll(sel)]
             .map(e => [e.dataset.testid.slice(5), e.dataset.type]))""", NODES)


async def screen_edges(page: Any) -> set[str]:
    ids = await page.evaluate("""() => [...document.querySelectorAll('[data-testid^="rf__edge-"]')]
                                  .map(e => e.dataset.testid.slice(9))""")
    return set(ids)


async def node_of_type(page: Any, node_type: str) -> str:
    loc = page.locator(f'[data-type="{node_type}"]')
    await loc.wait_for()
    return (await loc.get_attribute("data-testid"))[len("node-"):]


async def drag_from_palette(page: Any, node_type: str, x: int, y: int) -> str:
    """Drag a node type from the palette onto the canvas at (x, y) in the canvas; its new id."""
    await page.get_by_test_id(f"palette-{node_type}").drag_to(page.get_by_test_id("canvas"),
                                                              target_position={"x": x, "y": y})
    return await node_of_type(page, node_type)


async def centre(page: Any, test_id: str) -> tuple[float, float]:
    box = await page.get_by_test_id(test_id).bounding_box()
    assert box is not None, f"{test_id} is not visible"
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


async def connect(page: Any, source: str, source_port: str, target: str, target_port: str) -> None:
    """Drag from an output port to an input port."""
    x0, y0 = await centre(page, f"port-{source}-out-{source_port}")
    x1, y1 = await centre(page, f"port-{target}-in-{target_port}")
    await page.mouse.move(x0, y0)
    await page.mouse.down()
    await page.mouse.move(x1, y1, steps=12)
    await page.mouse.up()


async def drag_node(page: Any, node_id: str, dx: float, dy: float) -> None:
    box = await page.get_by_test_id(f"node-{node_id}").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + min(15, box["height"] / 2)
    await page.mouse.move(x, y)
    await page.mouse.down()
    await page.mouse.move(x + dx, y + dy, steps=10)
    await page.mouse.up()


async def select(page: Any, node_id: str) -> None:
    """Click a node so that its side panel shows it (the panel names its node: a panel already
    open for another node is not enough). A node the view has moved under the top bar
    (the canvas fits its view when a co-editor's first nodes arrive) is brought back with
    zoom-to-fit first, as a person would."""
    node = page.get_by_test_id(f"node-{node_id}")
    panel = page.locator(f'[data-testid="side-panel"][data-node-id="{node_id}"]')
    for attempt in range(3):
        try:
            await node.click(timeout=3000)
            # A click during the view's fit animation can land where the node was: no panel then.
            await panel.wait_for(timeout=3000)
            return
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
            await page.get_by_test_id("zoom-fit").click()
            await page.wait_for_timeout(400)   # the fit animates for 300 ms


async def config_value(page: Any, node_id: str, field: str) -> str:
    await select(page, node_id)
    return await page.get_by_test_id(f"config-{field}").input_value()


async def set_value(page: Any, server: LiveServer, member: Member, workflow_id: str, node_id: str,
                    key: str, value: str) -> None:
    """data.set: add one row to `values`, name it, fill its value.

    Waits until the document has the new key before typing the value, as a person would see it;
    a value typed within the same frame as the rename is covered by tests/e2e/test_forms.py."""
    await select(page, node_id)
    await page.get_by_test_id("config-values.add").click()
    await page.get_by_test_id("config-values.key.0").fill(key)

    async def renamed() -> bool:
        graph = await rest_graph(server, member, workflow_id)
        return key in (by_id(graph).get(node_id, {}).get("config", {}).get("values") or {})

    await eventually(renamed, f"the document has the key {key!r}")
    await page.get_by_test_id("config-values.value.0").fill(value)
    await page.get_by_test_id("config-values.value.0").blur()


# ---------------------------------------------------------------- the stories


async def test_build_connect_configure_and_run_a_workflow(sign_in, server, tenant: TenantFixture) -> None:
    """I sign in, drag two nodes from the palette, connect them, configure a field, run, see every
    node succeed, and clicking a node shows its output."""
    page = await sign_in(tenant.editor)
    await page.get_by_test_id("workflow-create").click()
    await live(page)
    workflow_id = page.url.rsplit("/", 1)[-1]

    trigger = await drag_from_palette(page, "trigger.manual", 150, 200)
    setter = await drag_from_palette(page, "data.set", 550, 220)
    await connect(page, trigger, "output", setter, "input")
    await page.locator(".react-flow__edge").first.wait_for()
    await set_value(page, server, tenant.editor, workflow_id, setter, "greeting", "hello {{ trigger.who }}")

    graph = await eventually(lambda: _with_value(server, tenant.editor, workflow_id, setter), "the value is stored")
    assert [(e["source"], e["target"]) for e in graph["edges"]] == [(trigger, setter)]
    assert {n["type"] for n in graph["nodes"]} == {"trigger.manual", "data.set"}

    await page.get_by_test_id("run-button").click()
    await page.get_by_test_id("run-input-json").fill('{"who": "world"}')
    await page.get_by_test_id("run-start").click()
    for node in (trigger, setter):
        await page.locator(f'[data-testid="node-state-{node}"][data-status="succeeded"]').wait_for(timeout=20_000)
    await page.locator('[data-testid="run-bar"][data-status="succeeded"]').wait_for()

    await select(page, setter)
    output = page.get_by_test_id("node-run-output")
    await output.wait_for()
    assert "hello world" in await output.text_content()


async def _with_value(server: LiveServer, member: Member, workflow_id: str, node: str) -> dict[str, Any] | None:
    graph = await rest_graph(server, member, workflow_id)
    values = by_id(graph).get(node, {}).get("config", {}).get("values", {})
    return graph if values.get("greeting") == "hello {{ trigger.who }}" and graph["edges"] else None


async def test_two_people_edit_at_once_and_end_with_the_same_graph(sign_in, server, tenant, make_workflow) -> None:
    """Two people drag and configure different nodes at the same time and both end with the same
    graph as the server's document."""
    wf = await make_workflow()
    a, b = await sign_in(tenant.owner), await sign_in(tenant.editor)
    await asyncio.gather(open_canvas(a, server, wf["id"]), open_canvas(b, server, wf["id"]))

    async def a_story() -> str:
        node = await drag_from_palette(a, "data.set", 120, 120)
        await set_value(a, server, tenant.owner, wf["id"], node, "who", "from a")
        return node

    async def b_story() -> str:
        node = await drag_from_palette(b, "http.request", 560, 600)
        await select(b, node)
        await b.get_by_test_id("config-url").fill("https://example.com/from-b")
        await b.get_by_test_id("config-url").blur()
        return node

    set_id, http_id = await asyncio.gather(a_story(), b_story())

    async def converged() -> dict[str, Any] | None:
        graph = await rest_graph(server, tenant.editor, wf["id"])
        nodes = by_id(graph)
        done = (nodes.get(set_id, {}).get("config", {}).get("values") == {"who": "from a"}
                and nodes.get(http_id, {}).get("config", {}).get("url") == "https://example.com/from-b")
        return graph if done else None

    graph = await eventually(converged, "the server's document has both people's nodes and fields")
    expected = {n["id"]: n["type"] for n in graph["nodes"]}
    assert expected == {set_id: "data.set", http_id: "http.request"}
    expected_edges = {e["id"] for e in graph["edges"]}
    for page in (a, b):
        await eventually(lambda: _same(page, expected), f"the canvas shows {expected}")
        assert await screen_edges(page) == expected_edges
        await page.get_by_test_id("zoom-fit").click()  # the other's node may be off screen
        assert await config_value(page, http_id, "url") == "https://example.com/from-b"
        await page.get_by_test_id("zoom-fit").click()  # the side panel took part of the canvas
        assert await config_value(page, set_id, "values.value.0") == "from a"
        assert await page.get_by_test_id("config-values.key.0").input_value() == "who"


async def _same(page: Any, expected: dict[str, str]) -> bool:
    return await screen_nodes(page) == expected


async def test_each_person_sees_the_others_cursor(sign_in, server, tenant, make_workflow) -> None:
    """Each person sees the other's cursor move over the canvas."""
    wf = await make_workflow(welcome_graph())
    a, b = await sign_in(tenant.owner), await sign_in(tenant.editor)
    await asyncio.gather(open_canvas(a, server, wf["id"]), open_canvas(b, server, wf["id"]))
    for page in (a, b):
        await page.mouse.move(700, 600)
        await page.mouse.move(720, 640, steps=5)
    await a.get_by_test_id(f"cursor-{tenant.editor.user_id}").wait_for()
    await b.get_by_test_id(f"cursor-{tenant.owner.user_id}").wait_for()
    # and it follows: a later move of B's pointer moves the cursor A sees
    cursor = a.get_by_test_id(f"cursor-{tenant.editor.user_id}")
    before = await cursor.bounding_box()
    await b.mouse.move(900, 450, steps=5)
    await eventually(lambda: _moved(cursor, before), "A sees B's cursor move")
    assert await a.get_by_test_id(f"cursor-{tenant.owner.user_id}").count() == 0, "one's own cursor is not drawn"


async def _moved(locator: Any, before: dict[str, float]) -> bool:
    box = await locator.bounding_box()
    return box is not None and (abs(box["x"] - before["x"]) > 20 or abs(box["y"] - before["y"]) > 20)


async def test_undo_in_one_context_leaves_the_others_change(sign_in, server, tenant, make_workflow) -> None:
    """I move a node, my co-editor then changes its condition, I undo: my move is undone and their
    change stays."""
    wf = await make_workflow(welcome_graph())
    a, b = await sign_in(tenant.owner), await sign_in(tenant.editor)
    await asyncio.gather(open_canvas(a, server, wf["id"]), open_canvas(b, server, wf["id"]))
    start = by_id(await rest_graph(server, tenant.editor, wf["id"]))["big"]["position"]
    on_b = await b.get_by_test_id("node-big").bounding_box()

    await drag_node(a, "big", 0, 160)
    moved = await eventually(lambda: _position_changed(server, tenant, wf["id"], start), "A's move is stored")
    await eventually(lambda: _box_moved(b, "big", on_b, 100), "B sees the node move")

    await select(b, "big")
    await b.get_by_test_id("config-condition").fill("{{ input.total > 500 }}")
    await b.get_by_test_id("config-condition").blur()
    await eventually(lambda: _condition(server, tenant, wf["id"], "{{ input.total > 500 }}"), "B's change is stored")
    await eventually(lambda: _a_sees_condition(a), "A sees B's condition")

    await a.get_by_test_id("undo").click()
    graph = await eventually(lambda: _position_is(server, tenant, wf["id"], start), "A's move is undone")
    big = by_id(graph)["big"]
    assert big["config"]["condition"] == "{{ input.total > 500 }}", "B's change survived A's undo"
    assert moved["y"] != start["y"]
    await eventually(lambda: _box_back(b, "big", on_b), "B sees the node back where it was")
    assert await config_value(b, "big", "condition") == "{{ input.total > 500 }}"
    assert await config_value(a, "big", "condition") == "{{ input.total > 500 }}"


async def _position_changed(server, tenant, wf_id, start):
    pos = by_id(await rest_graph(server, tenant.editor, wf_id))["big"]["position"]
    return pos if pos != start else None


async def _position_is(server, tenant, wf_id, start):
    graph = await rest_graph(server, tenant.editor, wf_id)
    return graph if by_id(graph)["big"]["position"] == start else None


async def _condition(server, tenant, wf_id, value):
    return by_id(await rest_graph(server, tenant.editor, wf_id))["big"]["config"].get("condition") == value


async def _a_sees_condition(a):
    return await config_value(a, "big", "condition") == "{{ input.total > 500 }}"


async def _box_moved(page, node, before, dy):
    box = await page.get_by_test_id(f"node-{node}").bounding_box()
    return box is not None and box["y"] - before["y"] > dy


async def _box_back(page, node, before):
    box = await page.get_by_test_id(f"node-{node}").bounding_box()
    return box is not None and abs(box["y"] - before["y"]) < 5 and abs(box["x"] - before["x"]) < 5


async def test_a_reload_after_a_server_restart_shows_every_edit(sign_in, server, tenant, make_workflow) -> None:
    """I add, connect and configure nodes, the server restarts at once, and a reload shows every
    edit."""
    wf = await make_workflow()
    page = await sign_in(tenant.editor)
    await open_canvas(page, server, wf["id"])
    trigger = await drag_from_palette(page, "trigger.manual", 150, 200)
    setter = await drag_from_palette(page, "data.set", 550, 220)
    await connect(page, trigger, "output", setter, "input")
    await page.locator(".react-flow__edge").first.wait_for()
    await set_value(page, server, tenant.editor, wf["id"], setter, "greeting", "hello {{ trigger.who }}")
    # The live room has it all (this GET reads the room): restart before the ~1 s batch write.
    before = await eventually(lambda: _with_value(server, tenant.editor, wf["id"], setter), "the room has the edits")

    await server.restart()
    await page.reload()
    await live(page)
    await eventually(lambda: _same(page, {trigger: "trigger.manual", setter: "data.set"}), "the reload shows both nodes")
    assert await screen_edges(page) == {e["id"] for e in before["edges"]}
    assert await config_value(page, setter, "values.value.0") == "hello {{ trigger.who }}"
    assert await page.get_by_test_id("config-values.key.0").input_value() == "greeting"
    after = await rest_graph(server, tenant.editor, wf["id"])
    assert after == before


async def test_a_viewer_sees_the_workflow_but_cannot_edit_it(sign_in, server, tenant, make_workflow) -> None:
    """A viewer sees the workflow and others' live edits, but cannot add, move, delete or configure."""
    wf = await make_workflow(welcome_graph())
    editor, viewer = await sign_in(tenant.editor), await sign_in(tenant.viewer)
    await asyncio.gather(open_canvas(editor, server, wf["id"]), open_canvas(viewer, server, wf["id"]))
    original = await rest_graph(server, tenant.editor, wf["id"])
    assert await screen_nodes(viewer) == {n["id"]: n["type"] for n in original["nodes"]}
    assert await viewer.get_by_test_id("workflow-create").count() == 0

    # The palette is disabled (and says so to assistive technology): neither a click nor a drag adds a node.
    assert await viewer.get_by_test_id("palette-data.set").get_attribute("draggable") == "false"
    assert await viewer.get_by_test_id("palette-data.set").is_disabled()
    await viewer.get_by_test_id("palette-data.set").click(force=True)
    # Dragging a node does not move it (it pans the view: compare with its neighbour); Delete does
    # not delete it; the form is read-only.
    before = await _offset(viewer, "big", "order")
    await drag_node(viewer, "big", 0, 160)
    await select(viewer, "big")
    assert await viewer.get_by_test_id("node-label-input").is_disabled()
    assert await viewer.get_by_test_id("config-condition").is_disabled()
    await viewer.keyboard.press("Delete")

    # The editor adds a node: the viewer sees it live (so the viewer's own attempts had their chance too).
    await editor.get_by_test_id("palette-logic.merge").click()
    added = await eventually(lambda: _new_nodes(editor, original), "the editor's node appears")
    await eventually(lambda: _new_nodes(viewer, original), "the viewer sees the editor's node")
    graph = await rest_graph(server, tenant.editor, wf["id"])
    assert {n["id"] for n in graph["nodes"]} == {n["id"] for n in original["nodes"]} | set(added)
    assert by_id(graph)["big"] == by_id(original)["big"], "the viewer changed nothing"
    assert graph["edges"] == original["edges"]
    after = await _offset(viewer, "big", "order")
    assert abs(after[0] - before[0]) < 3 and abs(after[1] - before[1]) < 3, "the node did not move on the viewer's screen"


async def _offset(page: Any, node: str, other: str) -> tuple[float, float]:
    a = await page.get_by_test_id(f"node-{node}").bounding_box()
    b = await page.get_by_test_id(f"node-{other}").bounding_box()
    return a["x"] - b["x"], a["y"] - b["y"]


async def _new_nodes(page: Any, original: dict[str, Any]) -> list[str]:
    known = {n["id"] for n in original["nodes"]}
    return [n for n in await screen_nodes(page) if n not in known]
