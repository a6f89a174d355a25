"""Error handling on every node: `on_error` stop, continue or branch, after the retries, on the
in-process engine and inside a Prefect flow run; the graph's error port is validated."""

from __future__ import annotations

import asyncio

from flows.compile import compile_graph
from flows.engine import Emitter, Engine, Services
from flows.prefect_clients import SharedPrefectClients
from flows.prefect_flow import run_as_prefect_flow
from flows.prefect_record import PrefectRecorder
from flows.validate import validate_graph
from tests.flows import fakes
from tests.flows.fakes import edge, graph, node
from tests.flows.test_engine import Collect, FastClock, run

REGISTRY = fakes.registry()


def _branching(flaky_type: str = "test.flaky", **flaky: object) -> dict:
    return graph([node("start", "trigger.manual"),
                  node("call", flaky_type, on_error="branch", **flaky),
                  node("ok", "data.set", values={"fine": True}),
                  node("handle", "data.set", values={"why": "{{ input.error.message }}",
                                                     "who": "{{ input.error.node_id }}"})],
                 [edge("start", "call"), edge("call", "ok"), edge("call", "handle", source_port="error")],
                 name="branching")


async def test_the_error_branch_is_taken_after_the_retries_and_the_normal_port_is_not():
    """A node with on_error branch retries first; its failure then flows to its error port only."""
    outcome, sink = await run(_branching(fail_times=9, retries=2, retry_backoff_s=0.01))
    assert outcome.status == "succeeded", outcome.error
    assert sink.kinds("call") == ["node.started", "node.retrying", "node.retrying", "node.failed"]
    assert sink.kinds("ok") == ["node.skipped"]
    assert outcome.output == {"handle": {"why": "upstream answered 503", "who": "call"}}
    failed = [e for e in sink.events if e.kind == "node.failed"][0]
    assert failed.data["on_error"] == "branch"
    assert failed.data["output"] == {"error": {"error": {"kind": "temporary", "message": "upstream answered 503",
                                                         "node_id": "call"}}}


async def test_a_node_that_recovers_within_its_retries_takes_its_normal_port():
    """The error branch is only for failures that outlast the retries."""
    outcome, sink = await run(_branching(fail_times=1, retries=2, retry_backoff_s=0.01))
    assert outcome.status == "succeeded"
    assert sink.kinds("handle") == ["node.skipped"]
    assert outcome.output == {"ok": {"fine": True}}


async def test_continue_makes_the_error_the_output_and_the_run_goes_on():
    """on_error continue: the node's first output carries {error: {kind, message, node_id}}."""
    doc = graph([node("start", "trigger.manual"), node("call", "test.flaky", fail_times=9, kind="bug",
                                                       on_error="continue"),
                 node("after", "data.set", values={"kind": "{{ input.error.kind }}"})],
                [edge("start", "call"), edge("call", "after")])
    outcome, sink = await run(doc)
    assert outcome.status == "succeeded", outcome.error
    assert outcome.output == {"after": {"kind": "bug"}}
    assert sink.kinds("call")[-1] == "node.failed"


async def test_stop_is_the_default_and_fails_the_run():
    """Without on_error a failing node still ends the run failed, naming it."""
    doc = graph([node("start", "trigger.manual"), node("call", "test.flaky", fail_times=9, kind="config"),
                 node("after", "data.set")], [edge("start", "call"), edge("call", "after")])
    outcome, _ = await run(doc)
    assert outcome.status == "failed" and outcome.error["node_id"] == "call"


async def test_a_failing_item_of_a_for_each_takes_the_for_each_error_branch():
    """A for_each whose item fails branches like any node when its on_error says so."""
    doc = graph([node("start", "trigger.manual"),
                 node("loop", "logic.for_each", items="{{ [1, 2] }}", on_error="branch"),
                 node("inner", "test.flaky", fail_times=9, kind="config"),
                 node("handle", "data.set", values={"kind": "{{ input.error.kind }}"})],
                [edge("start", "loop"), edge("loop", "inner", source_port="item"),
                 edge("loop", "handle", source_port="error")])
    outcome, _ = await run(doc)
    assert outcome.status == "succeeded", outcome.error
    assert outcome.output["handle"] == {"kind": "item"}


def test_an_edge_from_the_error_port_needs_on_error_branch_and_every_problem_is_reported():
    """Edges from `error` are refused unless on_error is branch; all such edges are reported at once."""
    doc = graph([node("start", "trigger.manual"), node("a", "data.set"), node("b", "data.set", on_error="continue"),
                 node("c", "data.set", on_error="branch"), node("x", "data.set"), node("y", "data.set"),
                 node("z", "data.set")],
                [edge("start", "a"), edge("start", "b"), edge("start", "c"), edge("a", "x", source_port="error"),
                 edge("b", "y", source_port="error"), edge("c", "z", source_port="error")])
    result = validate_graph(doc, REGISTRY)
    codes = [(p.code, p.node_id) for p in result.errors]
    assert codes == [("error_port", "a"), ("error_port", "b")]
    assert "on_error is 'continue'" in result.errors[1].message


def test_on_error_must_be_a_literal():
    """on_error is read before expressions render, so an expression there is refused."""
    doc = graph([node("start", "trigger.manual"), node("a", "data.set", on_error="{{ trigger.mode }}"),
                 node("b", "data.set", on_error="sometimes")], [edge("start", "a"), edge("start", "b")])
    problems = [(p.code, p.node_id, p.pointer) for p in validate_graph(doc, REGISTRY).errors]
    assert ("config", "a", "/nodes/1/config/on_error") in problems
    assert ("config", "b", "/nodes/2/config/on_error") in problems


async def _on_prefect(prefect_api, engine, plan, run_id: str, emit):
    """The run as a Prefect flow run, its record written beside it and caught up before returning."""
    recorder = PrefectRecorder(prefect_api, SharedPrefectClients())
    try:
        outcome = await run_as_prefect_flow(engine, plan, run_id, {}, emit, recorder=recorder)
        await asyncio.wait_for(recorder.caught_up(), 30)
    finally:
        await recorder.clients.close()
    return outcome


async def test_the_error_branch_is_taken_after_prefect_retries_a_durable_node(prefect_api):
    """On the Prefect path, after a durable node's retries (the engine's, in its Prefect task run), its failure takes the error branch."""
    doc = _branching("test.flaky_durable", fail_times=9, retries=1, retry_backoff_s=0.01)
    sink = Collect()
    outcome = await _on_prefect(prefect_api, Engine(Services(clock=FastClock())), compile_graph(doc, REGISTRY),
                                "onerr-pf-1", Emitter("onerr-pf-1", [sink]))
    assert outcome.status == "succeeded", outcome.error
    assert sink.kinds("call") == ["node.started", "node.retrying", "node.failed"]
    assert outcome.output == {"handle": {"why": "upstream answered 503", "who": "call"}}


async def test_continue_inside_a_prefect_flow_run(prefect_api):
    """on_error continue on the Prefect path: the run succeeds with the error as the node's output."""
    doc = graph([node("start", "trigger.manual"),
                 node("call", "test.flaky_durable", fail_times=9, kind="config", on_error="continue"),
                 node("after", "data.set", values={"msg": "{{ input.error.message }}"})],
                [edge("start", "call"), edge("call", "after")])
    sink = Collect()
    outcome = await _on_prefect(prefect_api, Engine(Services()), compile_graph(doc, REGISTRY), "onerr-pf-2",
                                Emitter("onerr-pf-2", [sink]))
    assert outcome.status == "succeeded", outcome.error
    assert outcome.output == {"after": {"msg": "the url is wrong"}}
