"""Run control in the engine: reusing recorded outputs, suspending on long waits, pausing."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from flows.compile import compile_graph
from flows.engine import Emitter, Engine, Services
from flows.events import EventBus
from tests.flows import fakes
from tests.flows.fakes import edge, graph, node
from tests.flows.test_engine import Collect, FastClock

REGISTRY = fakes.registry()


def executed(run_id: str) -> list[str]:
    return [nid for rid, nid, _ in fakes.EXECUTIONS if rid == run_id]


async def run(doc, run_id, *, payload=None, clock=None, **kw):
    sink = Collect()
    engine = Engine(Services(clock=clock or FastClock()))
    outcome = await engine.run(compile_graph(doc, REGISTRY), run_id, payload or {}, Emitter(run_id, [sink]), **kw)
    return outcome, sink


CHAIN = graph([node("start", "trigger.manual"), node("a", "test.record"), node("b", "test.record"),
               node("c", "test.record")],
              [edge("start", "a"), edge("a", "b"), edge("b", "c")])


async def test_reused_nodes_are_not_executed_and_their_outputs_flow_on():
    first, _ = await run(CHAIN, "reuse-1", payload={"n": 1})
    assert executed("reuse-1") == ["a", "b", "c"]
    reuse = {"start": {"output": {"n": 1}}, "a": {"output": {"node": "a", "inputs": ["from-before"]}}}
    outcome, sink = await run(CHAIN, "reuse-2", payload={"n": 1}, reuse=reuse)
    assert outcome.status == "succeeded"
    assert executed("reuse-2") == ["b", "c"]
    assert sink.kinds("a") == ["node.reused"] and sink.kinds("start") == ["node.reused"]
    b_input = next(e for e in sink.events if e.node_id == "b" and e.kind == "node.started").data["input"]
    assert b_input == {"input": [{"node": "a", "inputs": ["from-before"]}]}


async def test_a_reused_branch_port_skips_the_other_branch():
    doc = graph([node("start", "trigger.manual"), node("check", "logic.if", condition="{{ trigger.vip }}"),
                 node("yes", "test.record"), node("no", "test.record")],
                [edge("start", "check"), edge("check", "yes", "true"), edge("check", "no", "false")])
    outcome, sink = await run(doc, "reuse-if", payload={"vip": False},
                              reuse={"start": {"output": {}}, "check": {"true": {"vip": True}}})
    assert outcome.status == "succeeded" and executed("reuse-if") == ["yes"]
    assert sink.kinds("no") == ["node.skipped"]


class TestReuseInsideForEach:
    DOC = graph([node("start", "trigger.manual"), node("loop", "logic.for_each", items="{{ [1, 2, 3] }}"),
                 node("fetch", "test.record"), node("after", "test.record")],
                [edge("start", "loop"), edge("loop", "fetch", "item"), edge("fetch", "after")])

    async def test_a_reused_node_inside_a_loop_gives_its_output_in_every_item(self):
        """A node of a for_each's sub-path given in `reuse` does not execute; each item reuses it and goes on from it."""
        outcome, sink = await run(self.DOC, "item-reuse", reuse={"fetch": {"output": {"pinned": True}}})
        assert outcome.status == "succeeded", outcome.error
        assert [(nid, i) for rid, nid, i in fakes.EXECUTIONS if rid == "item-reuse"].count(("fetch", 0)) == 0
        assert sorted(i for rid, nid, i in fakes.EXECUTIONS if rid == "item-reuse" and nid == "after") == [0, 1, 2]
        reused = [e for e in sink.events if e.node_id == "fetch"]
        assert [e.kind for e in reused] == ["node.reused"] * 3 and sorted(e.iteration for e in reused) == [0, 1, 2]
        assert {e.data["output"]["output"]["inputs"][0] == {"pinned": True}
                for e in sink.events if e.node_id == "after" and e.kind == "node.succeeded"} == {True}

    async def test_without_it_every_item_executes_the_node(self):
        """The same loop without reuse executes the node once per item."""
        outcome, _ = await run(self.DOC, "item-no-reuse")
        assert outcome.status == "succeeded"
        assert sorted(i for rid, nid, i in fakes.EXECUTIONS if rid == "item-no-reuse" and nid == "fetch") == [0, 1, 2]


async def test_a_long_delay_suspends_the_run_and_nothing_new_starts():
    doc = graph([node("start", "trigger.manual"), node("wait", "util.delay", seconds=3600),
                 node("after", "test.record"), node("side", "test.record"), node("side2", "test.record")],
                [edge("start", "wait"), edge("wait", "after"), edge("start", "side"), edge("side", "side2")])
    clock = FastClock()
    outcome, sink = await run(doc, "susp", payload={"x": 1}, clock=clock)
    assert outcome.status == "waiting" and clock.slept == []
    assert [w["node_id"] for w in outcome.waiting] == ["wait"] and outcome.waiting[0]["reason"] == "delay"
    waiting = next(e for e in sink.events if e.kind == "node.waiting")
    assert waiting.data["output"] == {"output": {"x": 1}}     # its result once the time has come
    resume_at = datetime.fromisoformat(waiting.data["resume_at"])
    assert timedelta(minutes=59) < resume_at - datetime.now(timezone.utc) <= timedelta(hours=1)
    assert "after" not in executed("susp")
    assert sink.kinds()[-1] == "run.waiting" and sink.events[-1].data["resume_at"] == waiting.data["resume_at"]
    # resumed: the delay's result and the completed nodes are reused, the rest runs
    done = {"start": {"output": {"x": 1}}, "wait": waiting.data["output"]}
    done.update({nid: {"output": {"node": nid, "inputs": []}} for nid in executed("susp")})
    outcome, sink = await run(doc, "susp-2", payload={"x": 1}, reuse=done)
    assert outcome.status == "succeeded" and sorted(executed("susp-2")) == sorted(
        n for n in ("side", "side2", "after") if n not in done)


async def test_a_short_delay_just_sleeps_and_inside_for_each_a_long_one_too():
    doc = graph([node("start", "trigger.manual"), node("wait", "util.delay", seconds=10)], [edge("start", "wait")])
    clock = FastClock()
    outcome, _ = await run(doc, "short", clock=clock)
    assert outcome.status == "succeeded" and clock.slept == [10]
    doc = graph([node("start", "trigger.manual"), node("each", "logic.for_each", items="{{ [1, 2] }}"),
                 node("wait", "util.delay", seconds=3600)],
                [edge("start", "each"), edge("each", "wait", "item")])
    clock = FastClock()
    outcome, _ = await run(doc, "each-long", clock=clock)
    assert outcome.status == "succeeded" and clock.slept == [3600, 3600]


async def test_an_approval_waits_without_a_time_and_a_node_still_waiting_waits_again():
    doc = graph([node("start", "trigger.manual"),
                 node("ok", "approval.wait", title="Send it?", form={"type": "object", "required": ["note"],
                                                                     "properties": {"note": {"type": "string"}}}),
                 node("yes", "test.record"), node("no", "test.record")],
                [edge("start", "ok"), edge("ok", "yes", "approved"), edge("ok", "no", "rejected")])
    outcome, sink = await run(doc, "appr")
    assert outcome.status == "waiting" and outcome.waiting[0]["resume_at"] is None
    assert outcome.waiting[0]["details"]["title"] == "Send it?"
    assert sink.events[-1].data["resume_at"] is None
    # a pass that does not decide waits again, without executing the node
    again, sink = await run(doc, "appr-2", reuse={"start": {"output": {}}},
                            waiting={"ok": {"resume_at": None, "reason": "approval", "details": {"title": "Send it?"}}})
    assert again.status == "waiting" and sink.kinds("ok") == ["node.waiting"]
    decided, sink = await run(doc, "appr-3", reuse={"start": {"output": {}},
                                                    "ok": {"rejected": {"decision": "rejected", "data": {"note": "no"}}}})
    assert decided.status == "succeeded" and executed("appr-3") == ["no"] and sink.kinds("yes") == ["node.skipped"]


async def test_a_running_node_finishes_while_the_run_suspends():
    doc = graph([node("start", "trigger.manual"), node("wait", "util.delay", seconds=3600),
                 node("slow", "test.flaky", fail_times=0)],
                [edge("start", "wait"), edge("start", "slow")])
    outcome, sink = await run(doc, "susp-run")
    assert outcome.status == "waiting" and sink.kinds("slow")[-1] == "node.succeeded"


async def test_pausing_interrupts_running_nodes_and_ends_the_run_paused():
    doc = graph([node("start", "trigger.manual"), node("a", "test.record"),
                 node("wait", "util.delay", seconds=20)], [edge("start", "a"), edge("a", "wait")])
    sink = Collect()
    emit = Emitter("pause-1", [sink])
    task = asyncio.create_task(Engine(Services()).run(compile_graph(doc, REGISTRY), "pause-1", {}, emit))
    await sink.seen("node.started", "wait")
    emit.pausing = True
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sink.kinds("a")[-1] == "node.succeeded"
    assert sink.kinds("wait") == ["node.started", "node.cancelled"]
    assert sink.events[-1].kind == "run.paused"


async def test_the_bus_keeps_streaming_a_resumed_run_after_its_earlier_pass_ended():
    bus = EventBus(keep_s=60)
    first = Emitter("bus-1", [bus])
    first("run.started")
    first("run.waiting", waiting=[], resume_at=None)
    second = Emitter("bus-1", [bus])
    second.seq = first.seq
    second("run.queued")
    got = []

    async def read():
        async for e in bus.subscribe("bus-1"):
            got.append(e.kind)

    reader = asyncio.create_task(read())
    while len(got) < 3:   # subscribed: the earlier events are replayed
        await asyncio.sleep(0)
    second("run.started")
    second("run.succeeded", output={})
    await asyncio.wait_for(reader, 1)
    assert got == ["run.started", "run.waiting", "run.queued", "run.started", "run.succeeded"]
