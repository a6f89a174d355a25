"""The error port in the editor: a person sets a failing node to branch on error, draws an edge
from its error port (drawn in its own colour) and runs: the failure takes the drawn branch."""

from __future__ import annotations

import httpx

from tests.e2e.test_editor import by_id, connect, eventually, open_canvas, rest_graph, select
from tests.e2e.test_triggers import _assert_clean, open_triggers
from tests.flows.fakes import edge, graph, node


def _at(n: dict, x: int, y: int) -> dict:
    return {**n, "position": {"x": x, "y": y}}


async def test_draw_an_error_branch_and_see_it_taken(sign_in, server, tenant, make_workflow) -> None:
    """I switch a failing node's on_error to branch, connect its error port to a handler, run, and
    see the handler succeed while the normal branch is skipped and the run succeeds."""
    doc = graph([_at(node("start", "trigger.manual"), 60, 200),
                 _at(node("fail", "data.set", values={"n": "{{ trigger.n * 2 }}"}), 360, 200),
                 _at(node("ok", "data.set", values={"fine": True}), 700, 80),
                 _at(node("handle", "data.set", values={"caught": "{{ input.error.node_id }}"}), 700, 360)],
                [edge("start", "fail"), edge("fail", "ok")], name="error branch")
    wf = await make_workflow(doc)
    page = await sign_in(tenant.editor)
    await open_canvas(page, server, wf["id"])

    await select(page, "fail")
    await page.get_by_test_id("config-advanced").click()
    await page.get_by_test_id("config-on_error").select_option("branch")
    port = page.get_by_test_id("port-fail-out-error")
    await port.wait_for()
    assert "handle-error" in (await port.get_attribute("class") or "")

    # the side panel covers the handler: close it and fit the view (its animation takes 300 ms), as a person would
    await page.get_by_test_id("side-panel-close").click()
    await page.get_by_test_id("zoom-fit").click()
    await page.wait_for_timeout(400)
    await connect(page, "fail", "error", "handle", "input")
    await page.locator(".react-flow__edge.edge-on-error").wait_for()

    async def drawn() -> dict | None:
        g = await rest_graph(server, tenant.editor, wf["id"])
        branch = [e for e in g["edges"] if e["source_port"] == "error"]
        return g if branch and by_id(g)["fail"]["config"].get("on_error") == "branch" else None

    stored = await eventually(drawn, "the document has the error edge and on_error branch")
    assert [(e["source"], e["target"]) for e in stored["edges"] if e["source_port"] == "error"] == [("fail", "handle")]

    await page.get_by_test_id("run-button").click()
    await page.get_by_test_id("run-input-json-tab").click()
    await page.get_by_test_id("run-input-json").fill("{}")
    await page.get_by_test_id("run-start").click()
    await page.locator('[data-testid="run-bar"][data-status="succeeded"]').wait_for(timeout=20_000)
    for node_id, status in (("fail", "failed"), ("handle", "succeeded"), ("ok", "skipped")):
        await page.locator(f'[data-testid="node-state-{node_id}"][data-status="{status}"]').wait_for()
    await select(page, "handle")
    output = page.get_by_test_id("node-run-output")
    await output.wait_for()
    assert '"fail"' in (await output.text_content() or "")


async def test_the_error_workflow_is_one_setting_over_a_chain_on_failed(sign_in, server, tenant, make_workflow) -> None:
    """I pick the error workflow in the Triggers panel: it is stored as the chain on `failed`, and
    picking another replaces it; the panel has no serious accessibility violation."""
    wf, first, second = await make_workflow(name="main"), await make_workflow(name="alert"), await make_workflow(name="page")
    page = await sign_in(tenant.editor)
    await open_triggers(page, server, wf["id"])
    await page.get_by_test_id("triggers-tab-chains").click()
    picker = page.get_by_test_id("error-workflow")
    await picker.select_option(first["id"])
    await page.get_by_test_id("chain-row").wait_for()

    async def chains_to(target: str) -> list | None:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as c:
            rows = (await c.get(f"/api/workflows/{wf['id']}/chains", headers=tenant.editor.headers)).json()
        return rows if [(r["target_workflow_id"], r["on"]) for r in rows] == [(target, ["failed"])] else None

    await eventually(lambda: chains_to(first["id"]), "the chain on failed to the first workflow")
    await picker.select_option(second["id"])
    await eventually(lambda: chains_to(second["id"]), "the chain replaced by one to the second workflow")
    await _assert_clean(page, "error workflow set")
