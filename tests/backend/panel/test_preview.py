"""POST /api/workflows/{id}/panel/preview and GET .../panel/data: expressions rendered server-side
against the draft's last run and pins, in the runs' sandbox and limits."""

from __future__ import annotations

from tests.backend.conftest import assert_problem
from tests.backend.panel.conftest import create_workflow, run_draft
from tests.flows.fakes import edge, graph, node

FLOW = graph([node("start", "trigger.manual"), node("shape", "data.set", values={"name": "{{ trigger.who }}", "n": 3}),
              node("after", "test.record")],
             [edge("start", "shape"), edge("shape", "after")])


async def _preview(client, h, wf: str, expression: str, node_id: str | None = "after"):
    return await client.post(f"/api/workflows/{wf}/panel/preview", json={"expression": expression, "node_id": node_id},
                             headers=h)


class TestPreview:
    async def test_it_renders_against_the_last_run_of_the_draft(self, client, tenant_a):
        """After a run, nodes.<id>.output, trigger and input (a list: test.record takes many) render to what that run produced."""
        h = tenant_a.editor.headers
        wf = await create_workflow(client, h, FLOW)
        run = await run_draft(client, h, wf, {"who": "Ada"})
        r = await _preview(client, h, wf, "{{ nodes.shape.output.name }} x{{ input[0].n }} from {{ trigger.who }}")
        assert r.status_code == 200, r.text
        assert r.json()["ok"] is True and r.json()["value"] == "Ada x3 from Ada" and r.json()["type"] == "string"
        assert r.json()["run_id"] == run["id"]
        whole = (await _preview(client, h, wf, "{{ nodes.shape.output.n * 2 }}")).json()
        assert whole["value"] == 6 and whole["type"] == "number"

    async def test_a_pin_wins_over_the_last_run(self, client, tenant_a):
        """A pinned output in the draft is what nodes.<id>.output previews, even before any run."""
        h = tenant_a.editor.headers
        pinned = graph([{**node("start", "trigger.manual"), "pin": {"output": {"who": "Grace"}}},
                        {**node("shape", "data.set"), "pin": {"output": {"name": "pinned"}}}],
                       [edge("start", "shape")])
        wf = await create_workflow(client, h, pinned)
        body = (await _preview(client, h, wf, "{{ nodes.shape.output.name }}/{{ trigger.who }}", None)).json()
        assert body == {**body, "ok": True, "value": "pinned/Grace", "run_id": None}

    async def test_errors_come_back_inline_with_the_sandbox_message(self, client, tenant_a):
        """Undefined names, syntax errors and sandbox refusals are ok=false with the sandbox's message, not a 4xx/5xx."""
        h = tenant_a.editor.headers
        wf = await create_workflow(client, h, FLOW)
        undefined = (await _preview(client, h, wf, "{{ nodes.ghost.output }}")).json()
        assert undefined["ok"] is False and "ghost" in undefined["error"]
        syntax = (await _preview(client, h, wf, "{{ 1 + }}")).json()
        assert syntax["ok"] is False and syntax["error"].startswith("expression error")
        unsafe = (await _preview(client, h, wf, "{{ ''.__class__.__mro__ }}")).json()
        assert unsafe["ok"] is False and "unsafe" in unsafe["error"]

    async def test_the_runs_limits_apply(self, client, tenant_a):
        """The time budget and the output cap stop a preview exactly as they stop a run."""
        h = tenant_a.editor.headers
        wf = await create_workflow(client, h, FLOW)
        endless = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
        slow = (await _preview(client, h, wf, endless)).json()
        assert slow["ok"] is False and "longer than" in slow["error"]
        big = (await _preview(client, h, wf, "{{ 'x' * 10**7 }}")).json()
        assert big["ok"] is False and "too large" in big["error"]
        long_text = (await _preview(client, h, wf, "{{ 'x' * 100000 }}")).json()
        assert long_text["ok"] is True and long_text["truncated"] is True and len(long_text["value"]) == 1024

    async def test_an_over_long_expression_is_refused_at_its_field(self, client, tenant_a):
        """An expression longer than the sandbox's template limit is a 422 naming the field."""
        h = tenant_a.editor.headers
        wf = await create_workflow(client, h, FLOW)
        doc = assert_problem(await _preview(client, h, wf, "{{ 1 }}" + "x" * 300_000), 422)
        assert "expression" in str(doc)

    async def test_workspace_and_role_are_checked(self, client, tenant_a, tenant_b):
        """Viewers get 403; another workspace's workflow is 404, and so is a made-up id."""
        wf = await create_workflow(client, tenant_a.editor.headers, FLOW)
        assert_problem(await _preview(client, tenant_a.viewer.headers, wf, "{{ 1 }}"), 403)
        assert_problem(await _preview(client, tenant_b.owner.headers, wf, "{{ 1 }}"), 404)
        assert_problem(await _preview(client, tenant_a.editor.headers, "f" * 32, "{{ 1 }}"), 404)
        assert_problem(await client.post(f"/api/workflows/{wf}/panel/preview", json={"expression": "{{ 1 }}"}), 401)


class TestLastData:
    async def test_each_node_gets_its_latest_node_run_and_the_trigger_input(self, client, tenant_a, tenant_b):
        """The panel reads per node the last input/output of the draft's runs; viewers may read, other tenants not."""
        h = tenant_a.editor.headers
        wf = await create_workflow(client, h, FLOW)
        empty = (await client.get(f"/api/workflows/{wf}/panel/data?node=shape", headers=h)).json()
        assert empty == {"run_id": None, "trigger": None, "nodes": {}}
        run = await run_draft(client, h, wf, {"who": "Ada"})
        r = await client.get(f"/api/workflows/{wf}/panel/data?node=shape&node=after", headers=tenant_a.viewer.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["run_id"] == run["id"] and body["trigger"] == {"who": "Ada"} and set(body["nodes"]) == {"shape", "after"}
        assert body["nodes"]["shape"]["output"] == {"output": {"name": "Ada", "n": 3}}
        assert body["nodes"]["shape"]["input"] == {"input": {"who": "Ada"}}
        assert_problem(await client.get(f"/api/workflows/{wf}/panel/data?node=shape", headers=tenant_b.owner.headers), 404)
