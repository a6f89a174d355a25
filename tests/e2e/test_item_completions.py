"""Completions inside a for_each's body: `item.` offers the keys the items had in the last run and the keys
the list declares (the manual trigger's input_schema), nested keys too."""

from __future__ import annotations

from typing import Any

from tests.backend.conftest import TenantFixture
from tests.e2e.test_editor import open_canvas, select
from tests.e2e.test_node_panel import _run_draft
from tests.flows.fakes import edge, graph
from tests.flows.fakes import node as bare_node

PEOPLE = {"type": "object", "properties": {"people": {"type": "array", "items": {
    "type": "object", "properties": {"name": {"type": "string"}, "email": {"type": "string"}}}}}}


def node(id: str, type: str, x: int, **config: Any) -> dict[str, Any]:
    return {**bare_node(id, type, **config), "position": {"x": x, "y": 0}}


LOOP = graph([node("start", "trigger.manual", 0, input_schema=PEOPLE),
              node("loop", "logic.for_each", 280, items="{{ trigger.people }}"),
              node("greet", "data.set", 560, values={"hello": ""})],
             [edge("start", "loop"), edge("loop", "greet", "item")])


async def _offered(page: Any, text: str) -> set[str]:
    field = page.get_by_test_id("config-values.value.0")
    await field.fill(text)
    suggestions = page.get_by_test_id("config-values.value.0-suggestions")
    await suggestions.get_by_role("option").first.wait_for()
    return set(await suggestions.locator('[role="option"] .mono').all_text_contents())


async def test_item_completes_the_keys_of_the_loops_items(sign_in, server, tenant: TenantFixture, make_workflow) -> None:
    """In a node inside a for_each, `{{ item.` offers the item keys of the last run (age, address) and the
    declared ones no item had (email); `{{ item.address.` offers the nested key."""
    wf = await make_workflow(LOOP)
    await _run_draft(server, tenant.editor, wf["id"],
                     {"people": [{"name": "Ada", "age": 36, "address": {"city": "Paris"}}, {"name": "Bo", "vip": True}]})
    page = await sign_in(tenant.editor)
    await open_canvas(page, server, wf["id"])
    await select(page, "greet")
    await page.locator('[data-testid="side-panel"][data-loaded="true"]').wait_for()
    assert {"name", "age", "address", "email", "vip"} <= await _offered(page, "{{ item.")
    assert await _offered(page, "{{ item.address.") == {"city"}
    assert await _offered(page, "{{ it") >= {"item"}


async def test_before_any_run_item_completes_from_the_pinned_list_the_loop_gets(sign_in, server, tenant: TenantFixture,
                                                                                make_workflow) -> None:
    """With no run yet, a loop over its input offers the keys of the list pinned on the node feeding it."""
    pinned = {**node("rows", "code.javascript", 280, code="return []"), "pin": {"output": [{"sku": "A1", "qty": 2}]}}
    wf = await make_workflow(graph([node("start", "trigger.manual", 0), pinned, node("loop", "logic.for_each", 560),
                                    node("greet", "data.set", 840, values={"hello": ""})],
                                   [edge("start", "rows"), edge("rows", "loop"), edge("loop", "greet", "item")]))
    page = await sign_in(tenant.editor)
    await open_canvas(page, server, wf["id"])
    await select(page, "greet")
    await page.locator('[data-testid="side-panel"][data-loaded="true"]').wait_for()
    assert await _offered(page, "{{ item.") == {"sku", "qty"}
