"""flow.subworkflow's workflow in the node panel: a select of the workspace's workflows, by name with their
published status, reached and changed with the keyboard; the shared draft holds the chosen id."""

from __future__ import annotations

from typing import Any

from tests.backend.conftest import TenantFixture
from tests.e2e.teams_support import axe_violations
from tests.e2e.test_editor import by_id, eventually, open_canvas, rest_graph, select
from tests.flows.fakes import edge, graph, node

CHILD = graph([node("start", "trigger.manual")], [])


def _caller() -> dict[str, Any]:
    return graph([{**node("start", "trigger.manual"), "position": {"x": 0, "y": 0}},
                  {**node("call", "flow.subworkflow"), "position": {"x": 300, "y": 0}}],
                 [edge("start", "call")])


async def test_pick_the_workflow_a_subworkflow_node_runs(sign_in, server, tenant: TenantFixture, make_workflow,
                                                         api) -> None:
    """The workflow field lists the other workflows with their published status (not the workflow itself);
    choosing one, by pointer or from the keyboard, puts its id in the shared draft; the panel stays axe-clean."""
    published = await make_workflow(CHILD, name="child")
    r = await api.post(f"/api/workflows/{published['id']}/publish", json={"note": "v1"}, headers=tenant.editor.headers)
    assert r.status_code in (200, 201), r.text
    draft_only = await make_workflow(CHILD, name="other")
    wf = await make_workflow(_caller(), name="caller")
    page = await sign_in(tenant.editor)
    await open_canvas(page, server, wf["id"])
    await select(page, "call")
    picker = page.get_by_test_id("config-workflow_id")
    option = picker.locator(f'option[value="{draft_only["id"]}"]')
    await option.wait_for(state="attached")
    labels = await picker.locator("option").all_text_contents()
    assert f"{published['name']} (published v1)" in labels and f"{draft_only['name']} (not published)" in labels
    assert not any(wf["name"] in label for label in labels)

    await picker.select_option(published["id"])

    async def holds(workflow_id: str) -> bool:
        return by_id(await rest_graph(server, tenant.editor, wf["id"]))["call"]["config"].get("workflow_id") == workflow_id
    await eventually(lambda: holds(published["id"]), "the draft holds the published workflow's id")

    # the keyboard alone: the select takes the focus from the field before it and arrows change it
    await page.get_by_test_id("node-label-input").focus()
    for _ in range(20):
        await page.keyboard.press("Tab")
        if await picker.evaluate("el => el === document.activeElement"):
            break
    assert await picker.evaluate("el => el === document.activeElement"), "Tab reaches the workflow select"
    order = [v for v in await picker.locator("option").evaluate_all("os => os.map(o => o.value)") if v]
    target = draft_only["id"]
    key = "ArrowDown" if order.index(target) > order.index(published["id"]) else "ArrowUp"
    for _ in range(abs(order.index(target) - order.index(published["id"]))):
        await page.keyboard.press(key)
    await eventually(lambda: holds(target), "the draft holds the workflow chosen from the keyboard")
    found = await axe_violations(page, '[data-testid="side-panel"]')
    assert not found, "node panel:\n  " + "\n  ".join(found)
