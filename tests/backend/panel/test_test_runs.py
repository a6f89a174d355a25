"""POST /api/workflows/{id}/panel/test-runs: execute one node, run to here; side effects ask first
and are never repeated unasked; pins feed test runs and stay out of published versions."""

from __future__ import annotations

from tests.backend.conftest import assert_problem
from tests.backend.panel.conftest import create_workflow, effects_of, node_runs, run_draft, wait_ended
from tests.flows import fakes
from tests.flows.fakes import edge, graph, node

CHAIN = graph([node("start", "trigger.manual"), node("a", "test.record"), node("b", "test.record"),
               node("c", "test.record")],
              [edge("start", "a"), edge("a", "b"), edge("b", "c")])
WITH_EFFECT = graph([node("start", "trigger.manual"), node("notify", "test.effect", say="hi"),
                     node("after", "test.record"), node("last", "test.record")],
                    [edge("start", "notify"), edge("notify", "after"), edge("after", "last")])


def executed(run_id: str) -> list[str]:
    return [nid for rid, nid, _ in fakes.EXECUTIONS if rid == run_id]


async def _test_run(client, h, wf: str, **body):
    return await client.post(f"/api/workflows/{wf}/panel/test-runs", json=body, headers=h)


async def _started(client, h, wf: str, **body) -> dict:
    r = await _test_run(client, h, wf, **body)
    assert r.status_code == 202, r.text
    assert r.json()["trigger"] == "test" and r.json()["workflow_id"] == wf
    return await wait_ended(client, h, r.json()["id"])


class TestExecuteNode:
    async def test_it_runs_the_node_alone_on_the_last_runs_upstream_outputs(self, client, tenant_a):
        """Only the chosen node executes; its upstream nodes are reused from the last run, downstream ones do not run."""
        h = tenant_a.editor.headers
        wf = await create_workflow(client, h, CHAIN)
        first = await run_draft(client, h, wf, {"x": 1})
        run = await _started(client, h, wf, node_id="b")
        assert run["status"] == "succeeded" and executed(run["id"]) == ["b"]
        nodes = node_runs(run)
        assert set(nodes) == {"start", "a", "b"} and nodes["a"]["output"] == node_runs(first)["a"]["output"]
        assert nodes["b"]["output"]["output"]["inputs"][0]["node"] == "a" and run["input"] == {"x": 1}

    async def test_upstream_pins_feed_it_and_a_missing_output_is_a_409(self, client, tenant_a):
        """Without a run, an unpinned upstream node is a 409 naming it; pinned, its pin is the input."""
        h = tenant_a.editor.headers
        wf = await create_workflow(client, h, CHAIN)
        doc = assert_problem(await _test_run(client, h, wf, node_id="b"), 409)
        assert doc["problems"] == [{"node_id": "a"}] and "pin" in doc["detail"]
        pinned = {**CHAIN, "nodes": [{**n, "pin": {"output": {"pinned": True}}} if n["id"] == "a" else n
                                     for n in CHAIN["nodes"]]}
        assert (await client.put(f"/api/workflows/{wf}", json={"graph": pinned}, headers=h)).status_code == 200
        run = await _started(client, h, wf, node_id="b")
        assert executed(run["id"]) == ["b"]
        assert node_runs(run)["b"]["output"]["output"]["inputs"] == [{"pinned": True}]

    async def test_run_to_here_runs_the_path_and_not_what_follows(self, client, tenant_a):
        """Run to here executes every node up to the chosen one, in order, and nothing after it."""
        h = tenant_a.editor.headers
        wf = await create_workflow(client, h, CHAIN)
        run = await _started(client, h, wf, node_id="b", mode="to_here", input={"y": 2})
        assert run["status"] == "succeeded" and executed(run["id"]) == ["a", "b"] and run["input"] == {"y": 2}

    async def test_roles_and_workspaces_are_checked(self, client, tenant_a, tenant_b):
        """Viewers get 403, another workspace 404, an unknown node 422 at node_id."""
        wf = await create_workflow(client, tenant_a.editor.headers, CHAIN)
        assert_problem(await _test_run(client, tenant_a.viewer.headers, wf, node_id="a"), 403)
        assert_problem(await _test_run(client, tenant_b.owner.headers, wf, node_id="a"), 404)
        doc = assert_problem(await _test_run(client, tenant_a.editor.headers, wf, node_id="ghost"), 422)
        assert doc["field"] == "node_id"


class TestSideEffects:
    async def test_a_node_with_side_effects_asks_first(self, client, tenant_a):
        """Executing a side-effect node is a 409 with the question; answering `run` executes it once."""
        h = tenant_a.editor.headers
        wf = await create_workflow(client, h, WITH_EFFECT)
        doc = assert_problem(await _test_run(client, h, wf, node_id="notify", mode="to_here"), 409)
        assert doc["side_effects"] == [{"node_id": "notify", "type": "test.effect", "title": "Effect",
                                        "already_ran": False, "choices": ["run"]}]
        run = await _started(client, h, wf, node_id="notify", mode="to_here", side_effects={"notify": "run"})
        assert effects_of(run["id"]) == ["notify"]

    async def test_run_to_here_never_repeats_an_upstream_side_effect_unasked(self, client, tenant_a):
        """After a full run, running to a later node reuses the side effect's recorded output instead of repeating it."""
        h = tenant_a.editor.headers
        wf = await create_workflow(client, h, WITH_EFFECT)
        first = await run_draft(client, h, wf)
        assert effects_of(first["id"]) == ["notify"]
        run = await _started(client, h, wf, node_id="last", mode="to_here")
        assert run["status"] == "succeeded" and effects_of(run["id"]) == [] and executed(run["id"]) == ["after", "last"]
        assert node_runs(run)["notify"]["output"] == node_runs(first)["notify"]["output"]
        again = await _started(client, h, wf, node_id="last", mode="to_here", side_effects={"notify": "run"})
        assert effects_of(again["id"]) == ["notify"]

    async def test_email_send_goes_to_the_outbox_when_told(self, client, tenant_a):
        """email.send asks (run, outbox); `outbox` keeps the mail in the outbox whatever provider the node names."""
        h = tenant_a.editor.headers
        mail = graph([node("start", "trigger.manual"),
                      node("compose", "email.compose", subject="Hi {{ trigger.name }}", html="<p>Hi</p>"),
                      node("send", "email.send", sender="Shop <news@shop.com>", to="{{ trigger.email }}", provider="tenant")],
                     [edge("start", "compose"), edge("compose", "send", "output", "message")])
        wf = await create_workflow(client, h, mail)
        payload = {"name": "Ada", "email": "ada@example.com"}
        doc = assert_problem(await _test_run(client, h, wf, node_id="send", mode="to_here", input=payload), 409)
        assert doc["side_effects"][0]["choices"] == ["run", "outbox"]
        run = await _started(client, h, wf, node_id="send", mode="to_here", input=payload, side_effects={"send": "outbox"})
        assert run["status"] == "succeeded", run.get("error")
        assert [n for n in run["graph"]["nodes"] if n["id"] == "send"][0]["config"]["provider"] == "outbox"
        outbox = (await client.get("/api/email/outbox", headers=h)).json()
        assert any(m["run_id"] == run["id"] and m["node_id"] == "send" for m in outbox)

    async def test_a_rerun_from_a_node_reuses_side_effects_already_done(self, client, tenant_a):
        """Re-running from before a side effect reuses its output; re-running from the node itself asks, `repeat` repeats it."""
        h = tenant_a.editor.headers
        first = await run_draft(client, h, await create_workflow(client, h, WITH_EFFECT))
        r = await client.post(f"/api/runs/{first['id']}/rerun", json={"from_node": "start"}, headers=h)
        assert r.status_code == 202, r.text
        rerun = await wait_ended(client, h, r.json()["id"])
        assert rerun["status"] == "succeeded" and effects_of(rerun["id"]) == [] and executed(rerun["id"]) == ["after", "last"]
        doc = assert_problem(await client.post(f"/api/runs/{first['id']}/rerun", json={"from_node": "notify"}, headers=h), 409)
        assert [q["node_id"] for q in doc["side_effects"]] == ["notify"]
        r = await client.post(f"/api/runs/{first['id']}/rerun", json={"from_node": "notify", "repeat": ["notify"]}, headers=h)
        assert r.status_code == 202, r.text
        assert effects_of((await wait_ended(client, h, r.json()["id"]))["id"]) == ["notify"]


class TestPins:
    async def test_pins_are_validated_against_the_port_type(self, client, tenant_a):
        """A pin on a port that does not exist, or of the wrong type, is a `pin` problem at that pointer."""
        h = tenant_a.editor.headers
        bad = graph([node("start", "trigger.manual"), {**node("shape", "data.set"), "pin": {"output": "text", "nope": 1}}],
                    [edge("start", "shape")])
        r = await client.post("/api/graph/validate", json=bad, headers=h)
        problems = {p["pointer"]: p for p in r.json()["problems"] if p["code"] == "pin"}
        assert set(problems) == {"/nodes/1/pin/output", "/nodes/1/pin/nope"}
        assert "object" in problems["/nodes/1/pin/output"]["message"]

    async def test_pins_stay_out_of_published_versions_and_runs(self, client, tenant_a):
        """Publishing and running keep the draft's pins out of the version and the run's graph; the draft keeps them."""
        h = tenant_a.editor.headers
        pinned = graph([node("start", "trigger.manual"), {**node("shape", "data.set"), "pin": {"output": {"a": 1}}}],
                       [edge("start", "shape")])
        wf = await create_workflow(client, h, pinned)
        r = await client.post(f"/api/workflows/{wf}/publish", json={"note": "v1"}, headers=h)
        assert r.status_code in (200, 201), r.text
        version = (await client.get(f"/api/workflows/{wf}/versions/1", headers=h)).json()
        assert all("pin" not in n for n in version["graph"]["nodes"])
        run = await run_draft(client, h, wf)
        assert all("pin" not in n for n in run["graph"]["nodes"])
        draft = (await client.get(f"/api/workflows/{wf}", headers=h)).json()["graph"]
        assert [n["pin"] for n in draft["nodes"] if n["id"] == "shape"] == [{"output": {"a": 1}}]

    async def test_a_template_saved_from_the_workflow_holds_no_pin(self, client, tenant_a):
        """Saving a pinned draft as a template leaves the pins out of its graph and its file."""
        h = tenant_a.editor.headers
        pinned = graph([node("start", "trigger.manual"), {**node("shape", "data.set"), "pin": {"output": {"a": 1}}}],
                       [edge("start", "shape")])
        wf = await create_workflow(client, h, pinned)
        r = await client.post("/api/templates", json={"workflow_id": wf, "title": "Pinned"}, headers=h)
        assert r.status_code == 201, r.text
        assert {n["id"] for n in r.json()["graph"]["nodes"]} == {"shape", "start"}
        assert all("pin" not in n for n in r.json()["graph"]["nodes"] + r.json()["document"]["graph"]["nodes"])


LOOP = graph([node("start", "trigger.manual"), node("loop", "logic.for_each", items="{{ trigger.items }}"),
              {**node("fetch", "test.effect", say="hi"), "pin": {"output": {"pinned": True}}},
              node("after", "test.record"), node("done", "test.record")],
             [edge("start", "loop"), edge("loop", "fetch", "item"), edge("fetch", "after"),
              edge("loop", "done", "results")])


def item_runs(run: dict, node_id: str) -> list[dict]:
    return sorted((n for n in run["nodes"] if n["node_id"] == node_id), key=lambda n: n["iteration"])


class TestPinsInsideForEach:
    async def test_run_to_here_gives_a_pinned_body_node_its_pin_in_every_item(self, client, tenant_a):
        """Run to here past a loop: the pinned node in its body is not executed (nor asked about), each item goes on from its pin."""
        h = tenant_a.editor.headers
        wf = await create_workflow(client, h, LOOP)
        run = await _started(client, h, wf, node_id="done", mode="to_here", input={"items": [1, 2, 3]})
        assert run["status"] == "succeeded", run.get("error")
        assert effects_of(run["id"]) == []
        assert [(n["iteration"], n["status"], n["output"]) for n in item_runs(run, "fetch")] == \
            [(i, "succeeded", {"output": {"pinned": True}}) for i in range(3)]
        assert [n["output"]["output"]["inputs"] for n in item_runs(run, "after")] == [[{"pinned": True}]] * 3

    async def test_executing_a_body_node_runs_its_loop_on_the_pin(self, client, tenant_a):
        """Execute node on a node after the pinned one runs the loop, the pin standing in for the node before it."""
        h = tenant_a.editor.headers
        wf = await create_workflow(client, h, LOOP)
        await run_draft(client, h, wf, {"items": [1, 2]})
        run = await _started(client, h, wf, node_id="after")
        assert run["status"] == "succeeded", run.get("error")
        assert effects_of(run["id"]) == [] and sorted(i for rid, nid, i in fakes.EXECUTIONS
                                                      if rid == run["id"] and nid == "after") == [0, 1]

    async def test_executing_the_pinned_body_node_itself_runs_it_for_real(self, client, tenant_a):
        """Executing the pinned node ignores its own pin: its side effect is asked about, then done in every item."""
        h = tenant_a.editor.headers
        wf = await create_workflow(client, h, LOOP)
        doc = assert_problem(await _test_run(client, h, wf, node_id="fetch", mode="to_here", input={"items": [1, 2]}), 409)
        assert [q["node_id"] for q in doc["side_effects"]] == ["fetch"]
        run = await _started(client, h, wf, node_id="fetch", mode="to_here", input={"items": [1, 2]},
                             side_effects={"fetch": "run"})
        assert effects_of(run["id"]) == ["fetch", "fetch"]
