"""flow.subworkflow on the run manager: a child run's output, its failure, its cancellation with
the parent, the call chain's bounds, workspaces; in-process and through Prefect."""

from __future__ import annotations

import asyncio

from flows.compile import compile_graph
from flows.engine import Services
from flows.runner import RunManager
from flows.subworkflows import MemoryChildRuns
from nodes.services import NodeServices
from tests.flows import fakes
from tests.flows.fakes import edge, graph, node
from tests.flows.test_engine import Collect

REGISTRY = fakes.registry()

DOUBLE = graph([node("start", "trigger.manual"), node("double", "data.set", values={"n": "{{ trigger.n * 2 }}"})],
               [edge("start", "double")], name="double")
BROKEN = graph([node("start", "trigger.manual"), node("boom", "test.flaky", fail_times=9, kind="config")],
               [edge("start", "boom")], name="broken")


def _caller(workflow_id: str, **extra: object) -> dict:
    return graph([node("start", "trigger.manual"),
                  node("call", "flow.subworkflow", workflow_id=workflow_id, input={"n": "{{ trigger.n }}"}, **extra),
                  node("after", "data.set", values={"got": "{{ input }}"})],
                 [edge("start", "call"), edge("call", "after")], name=f"calls-{workflow_id}")


class _FlowRuns(dict):
    """Each run's Prefect flow run id, as the run's record (written beside it) reports it."""

    async def __call__(self, run_id: str, flow_run_id: str) -> None:
        self[run_id] = flow_run_id


def _manager(workflows: dict, *, mode: str = "never", prefect=None, max_depth: int = 10, flow_runs=None):
    sink = Collect()
    children = MemoryChildRuns(REGISTRY, {("t1", k): v for k, v in workflows.items()}, max_depth=max_depth)
    manager = RunManager(sinks=[sink], services=Services(nodes=NodeServices.in_memory(subworkflows=children)),
                         prefect=prefect, prefect_mode=mode, on_prefect_flow_run=flow_runs)
    children.runner = manager
    return manager, children, sink


async def _start(manager, doc, run_id, payload=None, workflow_id="parent"):
    return await manager.submit(compile_graph(doc, REGISTRY), run_id, payload or {}, tenant_id="t1",
                                meta={"workflow_id": workflow_id})


def _child_of(children, parent_run_id):
    return next(rid for rid, link in children.links.items() if link.parent_run_id == parent_run_id)


async def test_a_subworkflow_gives_the_child_runs_output_and_is_linked_to_its_parent():
    """With wait, the node's output is the child run's output; the child is recorded as the parent's."""
    manager, children, sink = _manager({"double": DOUBLE})
    outcome = await _start(manager, _caller("double"), "p1", {"n": 21})
    assert outcome.status == "succeeded", outcome.error
    assert outcome.output == {"after": {"got": {"double": {"n": 42}}}}
    child = _child_of(children, "p1")
    assert children.links[child].workflow_id == "double"
    assert [e.kind for e in sink.events if e.run_id == child][-1] == "run.succeeded"


async def test_without_wait_the_node_answers_with_the_child_run_id_at_once():
    """wait: false starts the child and goes on with {run_id, status}."""
    manager, children, sink = _manager({"double": DOUBLE})
    outcome = await _start(manager, _caller("double", wait=False), "p2", {"n": 1})
    child = _child_of(children, "p2")
    assert outcome.output == {"after": {"got": {"run_id": child, "status": "queued"}}}
    await asyncio.wait_for(_ended(sink, child), 10)     # the child runs on by itself
    assert [e.kind for e in sink.events if e.run_id == child][-1] == "run.succeeded"


async def test_a_failing_child_fails_the_node_and_on_error_applies():
    """The child's failure is the node's (kind subworkflow, naming the child's node); continue goes on."""
    manager, children, _ = _manager({"broken": BROKEN})
    failed = await _start(manager, _caller("broken"), "p3", {"n": 1})
    assert failed.status == "failed" and failed.error["node_id"] == "call"
    assert failed.error["kind"] == "subworkflow" and "at node boom: the url is wrong" in failed.error["message"]
    assert failed.error["child_run_id"] == _child_of(children, "p3")
    went_on = await _start(manager, _caller("broken", on_error="continue"), "p4", {"n": 1})
    assert went_on.status == "succeeded"
    assert went_on.output["after"]["got"]["error"]["kind"] == "subworkflow"


async def test_cancelling_the_parent_cancels_the_waiting_child():
    """A parent cancelled while its child runs takes the child down with it."""
    gated = graph([node("start", "trigger.manual"), node("hold", "test.gate", key="sub-cancel")],
                  [edge("start", "hold")], name="gated")
    manager, children, sink = _manager({"gated": gated})
    await _cancel_while_the_child_runs(manager, children, sink, "p5", timeout=10)


async def _cancel_while_the_child_runs(manager, children, sink, run_id, timeout):
    """Start a parent calling `gated`, cancel it once the child holds, and check the child ended cancelled."""
    task = manager.submit(compile_graph(_caller("gated"), REGISTRY), run_id, {"n": 1}, tenant_id="t1",
                          meta={"workflow_id": "parent"})
    await asyncio.wait_for(_started(sink, "hold"), timeout)
    child = _child_of(children, run_id)
    assert await manager.cancel(run_id)
    assert task.cancelled()
    await asyncio.wait_for(_ended(sink, child), timeout)
    assert [e.kind for e in sink.events if e.run_id == child][-1] == "run.cancelled"


async def _started(sink, node_id):
    while not any(e.kind == "node.started" and e.node_id == node_id for e in sink.events):
        await asyncio.sleep(0.01)


async def _ended(sink, run_id):
    while not any(e.run_id == run_id and e.kind in ("run.cancelled", "run.succeeded", "run.failed")
                  for e in sink.events):
        await asyncio.sleep(0.01)


async def test_a_cycle_of_calls_is_refused_naming_the_chain():
    """A calls B calls A: the second call to A is refused and the message names A → B → A."""
    manager, _, _ = _manager({"A": _caller("B"), "B": _caller("A")})
    outcome = await _start(manager, _caller("B"), "p6", {"n": 1}, workflow_id="A")
    assert outcome.status == "failed"
    assert "call cycle refused: A → B → A" in outcome.error["message"]


async def test_calls_nest_at_most_max_depth_deep():
    """With max_depth 2, a third nested call is refused."""
    manager, _, _ = _manager({"B": _caller("C"), "C": _caller("D"), "D": DOUBLE}, max_depth=2)
    outcome = await _start(manager, _caller("B"), "p7", {"n": 1}, workflow_id="A")
    assert outcome.status == "failed"
    assert "nest at most 2 deep" in outcome.error["message"]


async def test_another_workspaces_workflow_is_not_found():
    """The child is looked up in the caller's workspace only."""
    manager, children, _ = _manager({})
    children.workflows[("t2", "theirs")] = DOUBLE
    outcome = await _start(manager, _caller("theirs"), "p8", {"n": 1})
    assert outcome.status == "failed" and outcome.error["kind"] == "config"
    assert outcome.error["message"] == "no workflow theirs in this workspace"


async def test_a_subworkflow_through_prefect_gives_the_output_and_cancels_with_its_parent(prefect_api):
    """On the Prefect path (every run a flow run) the child is its own flow run: output, then cancellation."""
    gated = graph([node("start", "trigger.manual"), node("hold", "test.gate", key="sub-cancel-pf")],
                  [edge("start", "hold")], name="gated")
    flow_runs = _FlowRuns()
    manager, children, sink = _manager({"double": DOUBLE, "gated": gated}, mode="always", prefect=prefect_api,
                                       flow_runs=flow_runs)
    outcome = await _start(manager, _caller("double"), "pp1", {"n": 4})
    assert outcome.status == "succeeded", outcome.error
    assert outcome.output == {"after": {"got": {"double": {"n": 8}}}}
    child = _child_of(children, "pp1")
    await asyncio.wait_for(manager.prefect_record.caught_up(), 120)
    assert flow_runs[child] and flow_runs[child] != flow_runs["pp1"]

    await _cancel_while_the_child_runs(manager, children, sink, "pp2", timeout=30)


async def test_a_child_takes_no_place_in_the_tenants_queue():
    """With one run allowed per tenant, a parent waiting on its child does not block it."""
    manager, _, _ = _manager({"double": DOUBLE})
    manager.max_concurrent = 1
    manager._queues.clear()
    outcome = await asyncio.wait_for(_start(manager, _caller("double"), "p9", {"n": 2}), 10)
    assert outcome.status == "succeeded"


async def test_a_suspending_child_suspends_the_caller_which_takes_its_result_when_resumed():
    """A child waiting on an approval makes the calling node suspend its run (reason subworkflow,
    naming the child); a later pass marking that wait `resume` executes the node again, which
    takes the ended child's output without starting another child."""
    from flows.engine import RunOutcome

    asks = graph([node("start", "trigger.manual"), node("ok", "approval.wait", title="Go on?")],
                 [edge("start", "ok")], name="asks")
    manager, children, _ = _manager({"asks": asks})
    manager.engine.services.suspend_after_s = 60.0
    plan = compile_graph(_caller("asks"), REGISTRY)
    first = await manager.submit(plan, "ps1", {"n": 1}, tenant_id="t1", meta={"workflow_id": "parent"})
    assert first.status == "waiting", first
    [entry] = first.waiting
    child = _child_of(children, "ps1")
    assert entry["node_id"] == "call" and entry["reason"] == "subworkflow"
    assert entry["details"]["child_run_id"] == child
    children.outcomes[child] = RunOutcome("succeeded", output={"ok": {"approved": True}})
    waits = {"call": {k: entry[k] for k in ("resume_at", "reason", "details")} | {"resume": True}}
    second = await manager.submit(plan, "ps1", {"n": 1}, tenant_id="t1", meta={"workflow_id": "parent"},
                                  waiting=waits)
    assert second.status == "succeeded", second.error
    assert second.output == {"after": {"got": {"ok": {"approved": True}}}}
    assert [r for r, link in children.links.items() if link.parent_run_id == "ps1"] == [child]
