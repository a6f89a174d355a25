"""The node panel (issue 17): a field dragged from the input part onto a config field becomes its
expression and the live preview (rendered on the server) shows its value; a typed expression gets
completions and its error inline; a pin made in one browser is seen in another, and "Execute node"
runs the node alone on that pin; renaming a node rewrites the expressions naming it; the panel
passes axe-core and its side-effect question is a keyboard dialog."""

from __future__ import annotations

from typing import Any

import httpx

from tests.backend.conftest import TenantFixture
from tests.e2e.conftest import LiveServer
from tests.e2e.teams_support import axe_violations
from tests.e2e.test_editor import by_id, eventually, open_canvas, rest_graph, select
from tests.flows.fakes import edge, graph
from tests.flows.fakes import node as bare_node

_X = {"start": 0, "shape": 280, "greet": 560, "call": 280}


def node(id: str, type: str, **config: Any) -> dict[str, Any]:
    """A node placed on a row, left to right, so that each can be clicked."""
    return {**bare_node(id, type, **config), "position": {"x": _X[id], "y": 0}}

MAPPING = graph([node("start", "trigger.manual"), node("shape", "data.set", values={"name": "{{ trigger.who }}"}),
                 node("greet", "data.set", values={"greeting": ""})],
                [edge("start", "shape"), edge("shape", "greet")])


async def _run_draft(server: LiveServer, member: Any, workflow_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as c:
        r = await c.post(f"/api/workflows/{workflow_id}/runs", json={"input": payload}, headers=member.headers)
        assert r.status_code == 202, r.text

        async def ended() -> Any:
            run = (await c.get(f"/api/runs/{r.json()['id']}", headers=member.headers)).json()
            return run if run["status"] in ("succeeded", "failed") else None
        return await eventually(ended, "the run ended")


async def test_drag_a_field_onto_a_config_field_and_see_its_value(sign_in, server, tenant: TenantFixture,
                                                                  make_workflow) -> None:
    """After a run, dragging `name` from the input part onto greet's value writes {{ nodes.shape.output.name }}
    into the shared draft and the preview under the field shows "Ada" (Enter on the field does the same from the
    keyboard); typing completes the key; a wrong expression shows the sandbox's error."""
    wf = await make_workflow(MAPPING)
    await _run_draft(server, tenant.editor, wf["id"], {"who": "Ada"})
    page = await sign_in(tenant.editor)
    await open_canvas(page, server, wf["id"])
    await select(page, "greet")
    chip = page.get_by_test_id("input-shape-field-name")
    await chip.wait_for()
    assert await page.get_by_test_id("input-shape-count").text_content() == "1 field"
    field = page.get_by_test_id("config-values.value.0")
    await chip.drag_to(field)
    expression = "{{ nodes.shape.output.name }}"
    assert await field.input_value() == expression
    preview = page.locator('[data-testid="config-values.value.0-preview"][data-status="ok"]')
    await preview.wait_for()
    assert "Ada" in await preview.text_content()

    async def stored() -> bool:
        return by_id(await rest_graph(server, tenant.editor, wf["id"]))["greet"]["config"]["values"]["greeting"] == expression
    await eventually(stored, "the draft holds the expression")

    # the keyboard way: focus the field, Tab to a data field, press Enter
    await field.fill("")
    await field.focus()
    await chip.focus()
    await page.keyboard.press("Enter")
    assert await field.input_value() == expression
    await field.fill("{{ nodes.shape.output.nam")
    suggestions = page.get_by_test_id("config-values.value.0-suggestions")
    await suggestions.get_by_role("option", name="name").wait_for()
    await field.press("Enter")
    assert await field.input_value() == "{{ nodes.shape.output.name"
    await field.fill("{{ nodes.shape.output.name | int + }}")
    error = page.locator('[data-testid="config-values.value.0-preview"][data-status="error"]')
    await error.wait_for()
    assert "expression error" in await error.text_content()
    found = await axe_violations(page, '[data-testid="side-panel"]')
    assert not found, "node panel:\n  " + "\n  ".join(found)


async def _what_was_seen(page: Any, server: LiveServer, tenant: TenantFixture, workflow_id: str) -> dict[str, Any]:
    """The toast, the run bar and the workflow's runs as the API has them: a failure's evidence."""
    toast = page.get_by_test_id("toast")
    bar = page.get_by_test_id("run-bar")
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as c:
        runs = (await c.get("/api/runs", params={"workflow_id": workflow_id}, headers=tenant.editor.headers)).json()
    return {"toast": await toast.text_content() if await toast.count() else None,
            "run_bar": {a: await bar.get_attribute(a) for a in ("data-status", "data-run-id")} if await bar.count() else None,
            "node_state": await page.locator('[data-testid="node-state-greet"]').get_attribute("data-status")
            if await page.locator('[data-testid="node-state-greet"]').count() else None,
            "runs": runs}


async def test_a_pin_is_shared_and_execute_node_runs_on_it(sign_in, server, tenant: TenantFixture, make_workflow) -> None:
    """One editor pins shape's output (a wrong type refused at the JSON); the other browser sees the pin badge and
    the pinned output; executing greet alone runs it on the pinned data, in a test run whose graph holds no pin."""
    wf = await make_workflow(graph([node("start", "trigger.manual"),
                                    node("shape", "data.set", values={"name": "{{ trigger.who }}"}),
                                    node("greet", "data.set", values={"greeting": "Hi {{ nodes.shape.output.name }}"})],
                                   [edge("start", "shape"), edge("shape", "greet")]))
    page = await sign_in(tenant.editor)
    other = await sign_in(tenant.owner)
    await open_canvas(page, server, wf["id"])
    await open_canvas(other, server, wf["id"])
    await select(page, "shape")
    await page.get_by_test_id("pin-edit").click()
    await page.get_by_test_id("pin-json").fill('{"output": "not an object"}')
    await page.get_by_test_id("pin-save").click()
    assert "carries object" in await page.get_by_test_id("pin-error").text_content()
    await page.get_by_test_id("pin-json").fill('{"output": {"name": "Pinned"}}')
    await page.get_by_test_id("pin-save").click()
    await page.get_by_test_id("node-pin-shape").wait_for()
    await other.get_by_test_id("node-pin-shape").wait_for()
    await select(other, "shape")
    await other.get_by_test_id("output-pinned").wait_for()

    await select(page, "greet")
    await page.get_by_test_id("execute-node").click()
    # a run under the suite's load (the other xdist worker starts app and Prefect processes) can take more than 10 s
    try:
        await page.locator('[data-testid="node-state-greet"][data-status="succeeded"]').wait_for(timeout=30_000)
    except Exception as exc:     # it failed twice in CI under load, never alone: say what the page and API saw
        raise AssertionError(f"greet never showed succeeded: {await _what_was_seen(page, server, tenant, wf['id'])}") from exc
    await page.locator('[data-testid="run-bar"][data-status="succeeded"]').wait_for(timeout=30_000)
    output = page.get_by_test_id("output-output-table")
    await eventually(lambda: output.text_content(), "the output part shows the new output")
    assert "Hi Pinned" in await output.text_content()
    run_id = await page.get_by_test_id("run-bar").get_attribute("data-run-id")
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as c:
        run = (await c.get(f"/api/runs/{run_id}", headers=tenant.editor.headers)).json()
    assert run["trigger"] == "test" and {n["node_id"]: n["status"] for n in run["nodes"]}["greet"] == "succeeded"
    assert all("pin" not in n for n in run["graph"]["nodes"])


async def test_renaming_a_node_rewrites_the_expressions_naming_it(sign_in, server, tenant: TenantFixture,
                                                                  make_workflow) -> None:
    """A new id for shape renames it, its edges and greet's expression, in the draft everyone shares."""
    wf = await make_workflow(graph([node("start", "trigger.manual"), node("shape", "data.set", values={"name": "x"}),
                                    node("greet", "data.set", values={"greeting": "Hi {{ nodes.shape.output.name }}"})],
                                   [edge("start", "shape"), edge("shape", "greet")]))
    page = await sign_in(tenant.editor)
    await open_canvas(page, server, wf["id"])
    await select(page, "shape")
    ident = page.get_by_test_id("node-id-input")
    await ident.fill("person")
    await ident.press("Enter")

    async def renamed() -> Any:
        g = await rest_graph(server, tenant.editor, wf["id"])
        nodes = by_id(g)
        return "person" in nodes and "shape" not in nodes and g
    g = await eventually(renamed, "the draft has the new id")
    assert by_id(g)["greet"]["config"]["values"]["greeting"] == "Hi {{ nodes.person.output.name }}"
    assert {(e["source"], e["target"]) for e in g["edges"]} == {("start", "person"), ("person", "greet")}


async def test_a_node_with_side_effects_asks_first_in_a_keyboard_dialog(sign_in, server, tenant: TenantFixture,
                                                                        make_workflow) -> None:
    """Execute node on an http.request opens the side-effect question as a modal dialog (focus inside, no serious
    axe violation); Escape closes it and nothing ran."""
    wf = await make_workflow(graph([node("start", "trigger.manual"), node("call", "http.request", url="http://127.0.0.1:9/")],
                                   [edge("start", "call")]))
    page = await sign_in(tenant.editor)
    await open_canvas(page, server, wf["id"])
    await select(page, "call")
    await page.get_by_test_id("execute-node").click()
    dialog = page.get_by_role("dialog", name="These nodes have side effects")
    await dialog.wait_for()
    assert await page.get_by_test_id("side-effect-call-run").is_visible()
    assert await page.evaluate("() => !!document.activeElement.closest('[role=dialog]')")
    found = await axe_violations(page, '[data-testid="side-effects-dialog"]')
    assert not found, "side-effect dialog:\n  " + "\n  ".join(found)
    await page.keyboard.press("Escape")
    await dialog.wait_for(state="detached")
    assert await page.get_by_test_id("run-bar").count() == 0
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as c:
        runs = (await c.get(f"/api/runs?workflow_id={wf['id']}", headers=tenant.editor.headers)).json()
    assert runs == []
