"""The engine runs plans: order, branching, joins, fan-out, retries, timeouts, failures."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.compile import compile_graph
from flows.engine import Emitter, Engine, Services
from flows.events import EventBus, RunEvent
from tests.flows import fakes
from tests.flows.fakes import edge, graph, node

REGISTRY = fakes.registry()


class Collect:
    def __init__(self):
        self.events: list[RunEvent] = []
        self._more = asyncio.Event()

    def emit(self, event: RunEvent) -> None:
        self.events.append(event)
        self._more.set()

    async def seen(self, kind: str, node_id: str | None = None, timeout: float = 5) -> None:
        """Until an event of `kind` (of node `node_id`) has been emitted."""
        async def wait() -> None:
            while kind not in self.kinds(node_id):
                self._more.clear()
                await self._more.wait()
        await asyncio.wait_for(wait(), timeout)

    def kinds(self, node_id: str | None = None) -> list[str]:
        return [e.kind for e in self.events if node_id is None or e.node_id == node_id]


class FastClock:
    """Sleeps are recorded, not waited: retry and delay tests take no time."""

    def __init__(self):
        self.slept: list[float] = []

    def now(self):
        from datetime import datetime, timezone
        return datetime.now(timezone.utc)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


async def run(doc, payload=None, run_id="r1", clock=None):
    sink = Collect()
    plan = compile_graph(doc, REGISTRY)
    engine = Engine(Services(clock=clock or FastClock()))
    outcome = await engine.run(plan, run_id, payload or {}, Emitter(run_id, [sink]))
    return outcome, sink


async def test_a_chain_runs_in_order_and_expressions_see_upstream_outputs():
    doc = graph([node("start", "trigger.manual"),
                 node("a", "data.set", values={"n": "{{ trigger.n }}"}),
                 node("b", "data.set", values={"double": "{{ nodes.a.output.n * 2 }}"})],
                [edge("start", "a"), edge("a", "b")])
    outcome, sink = await run(doc, {"n": 21})
    assert outcome.status == "succeeded"
    assert outcome.output == {"b": {"double": 42}}
    assert sink.kinds()[0] == "run.started" and sink.kinds()[-1] == "run.succeeded"
    assert [e.seq for e in sink.events] == list(range(1, len(sink.events) + 1))


async def test_if_runs_the_branch_taken_and_records_the_other_as_skipped():
    doc = graph([node("start", "trigger.manual"),
                 node("check", "logic.if", condition="{{ trigger.vip }}"),
                 node("yes", "data.set", values={"branch": "yes"}),
                 node("no", "data.set", values={"branch": "no"}),
                 node("after_no", "data.set", values={"x": 1})],
                [edge("start", "check"), edge("check", "yes", "true"), edge("check", "no", "false"),
                 edge("no", "after_no")])
    outcome, sink = await run(doc, {"vip": True})
    assert outcome.status == "succeeded"
    assert sink.kinds("yes")[-1] == "node.succeeded"
    assert sink.kinds("no") == ["node.skipped"] and sink.kinds("after_no") == ["node.skipped"]


async def test_merge_all_after_an_if_runs_with_the_branch_that_arrived():
    doc = graph([node("start", "trigger.manual"),
                 node("check", "logic.if", condition="{{ trigger.vip }}"),
                 node("yes", "data.set", values={"b": "yes"}),
                 node("no", "data.set", values={"b": "no"}),
                 node("join", "logic.merge", mode="all")],
                [edge("start", "check"), edge("check", "yes", "true"), edge("check", "no", "false"),
                 edge("yes", "join"), edge("no", "join")])
    outcome, _ = await run(doc, {"vip": False})
    assert outcome.output == {"join": [{"b": "no"}]}


async def test_merge_first_starts_as_soon_as_one_branch_arrives():
    doc = graph([node("start", "trigger.manual"),
                 node("fast", "data.set", values={"who": "fast"}),
                 node("slow", "util.delay", seconds=0.3),
                 node("join", "logic.merge", mode="first")],
                [edge("start", "fast"), edge("start", "slow"), edge("fast", "join"), edge("slow", "join")])
    plan = compile_graph(doc, REGISTRY)
    sink = Collect()
    outcome = await Engine(Services()).run(plan, "r-first", {}, Emitter("r-first", [sink]))
    assert outcome.status == "succeeded"
    join_done = next(i for i, e in enumerate(sink.events) if e.node_id == "join" and e.kind == "node.succeeded")
    slow_done = next(i for i, e in enumerate(sink.events) if e.node_id == "slow" and e.kind == "node.succeeded")
    assert join_done < slow_done
    assert outcome.output["join"] == {"who": "fast"}


async def test_independent_branches_run_concurrently():
    doc = graph([node("start", "trigger.manual")] + [node(f"d{i}", "util.delay", seconds=0.2) for i in range(5)],
                [edge("start", f"d{i}") for i in range(5)])
    plan = compile_graph(doc, REGISTRY)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    outcome = await Engine(Services()).run(plan, "r-conc", {}, Emitter("r-conc", []))
    assert outcome.status == "succeeded"
    assert loop.time() - t0 < 0.8   # five 0.2 s waits side by side, not one after another


async def test_for_each_runs_the_sub_path_once_per_item_and_collects_results():
    doc = graph([node("start", "trigger.manual"),
                 node("loop", "logic.for_each", items="{{ trigger.people }}", concurrency=2),
                 node("greet", "data.set", values={"hello": "{{ item.name }}", "i": "{{ index }}"}),
                 node("done", "data.set", values={"count": "{{ nodes.loop.output | length }}"})],
                [edge("start", "loop"), edge("loop", "greet", "item"), edge("loop", "done", "results")])
    outcome, sink = await run(doc, {"people": [{"name": "Ada"}, {"name": "Bo"}, {"name": "Cy"}]})
    assert outcome.status == "succeeded", outcome.error
    assert outcome.output == {"done": {"count": 3}}
    greets = [e for e in sink.events if e.node_id == "greet" and e.kind == "node.succeeded"]
    assert sorted(e.iteration for e in greets) == [0, 1, 2]
    assert {e.data["output"]["output"]["hello"] for e in greets} == {"Ada", "Bo", "Cy"}


async def test_a_temporary_failure_is_retried_with_backoff_then_succeeds():
    clock = FastClock()
    doc = graph([node("start", "trigger.manual"), node("f", "test.flaky", fail_times=2, retries=3, retry_backoff_s=1)],
                [edge("start", "f")])
    outcome, sink = await run(doc, run_id="r-retry", clock=clock)
    assert outcome.status == "succeeded"
    assert outcome.output == {"f": {"attempts": 3}}
    assert sink.kinds("f") == ["node.started", "node.retrying", "node.retrying", "node.succeeded"]
    assert 0.5 <= clock.slept[0] <= 1.0 and 1.0 <= clock.slept[1] <= 2.0   # exponential, with jitter


async def test_retry_after_from_the_provider_is_honoured():
    clock = FastClock()
    doc = graph([node("start", "trigger.manual"),
                 node("f", "test.flaky", fail_times=1, retries=1, retry_backoff_s=0.1, retry_after=7)],
                [edge("start", "f")])
    outcome, _ = await run(doc, run_id="r-ra", clock=clock)
    assert outcome.status == "succeeded"
    assert sum(clock.slept) == pytest.approx(7, abs=0.01)


async def test_a_users_mistake_is_never_retried_and_fails_the_run_naming_the_node_and_field():
    doc = graph([node("start", "trigger.manual"), node("f", "test.flaky", fail_times=5, kind="config", retries=3)],
                [edge("start", "f")])
    outcome, sink = await run(doc, run_id="r-cfg")
    assert outcome.status == "failed"
    assert outcome.error["node_id"] == "f" and outcome.error["kind"] == "config"
    assert outcome.error["pointer"] == "/url"
    assert sink.kinds("f") == ["node.started", "node.failed"]


async def test_a_bug_is_logged_with_a_correlation_id_the_user_sees(caplog):
    doc = graph([node("start", "trigger.manual"), node("f", "test.flaky", fail_times=1, kind="bug")],
                [edge("start", "f")])
    outcome, _ = await run(doc, run_id="r-bug")
    cid = outcome.error["correlation_id"]
    assert outcome.error["kind"] == "bug" and cid in outcome.error["message"]
    assert any(cid in r.getMessage() for r in caplog.records)


async def test_a_node_that_exceeds_its_timeout_fails_as_timeout():
    doc = graph([node("start", "trigger.manual"), node("f", "test.flaky", fail_times=1, kind="hang", timeout_s=0.05)],
                [edge("start", "f")])
    outcome, _ = await run(doc, run_id="r-timeout")
    assert outcome.status == "failed" and outcome.error["kind"] == "timeout"


async def test_a_bad_expression_fails_the_node_with_a_pointer_to_the_config_field():
    doc = graph([node("start", "trigger.manual"), node("a", "data.set", values={"x": "{{ nodes.start.output.missing.deeper }}"})],
                [edge("start", "a")])
    outcome, _ = await run(doc, run_id="r-expr")
    assert outcome.status == "failed" and outcome.error["kind"] == "config"
    assert outcome.error["pointer"].startswith("/values")


async def test_cancelling_a_run_interrupts_the_running_node():
    doc = graph([node("start", "trigger.manual"), node("wait", "util.delay", seconds=30)], [edge("start", "wait")])
    plan = compile_graph(doc, REGISTRY)
    sink = Collect()
    task = asyncio.create_task(Engine(Services()).run(plan, "r-cancel", {}, Emitter("r-cancel", [sink])))
    await sink.seen("node.started", "wait")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sink.kinds("wait") == ["node.started", "node.cancelled"]
    assert sink.kinds()[-1] == "run.cancelled"


async def test_late_subscribers_replay_the_runs_events_from_the_bus():
    bus = EventBus(keep_s=5)
    doc = graph([node("start", "trigger.manual"), node("a", "data.set", values={"x": 1})], [edge("start", "a")])
    await Engine(Services()).run(compile_graph(doc, REGISTRY), "r-bus", {}, Emitter("r-bus", [bus]))
    seen = [e.kind async for e in bus.subscribe("r-bus")]
    assert seen[0] == "run.started" and seen[-1] == "run.succeeded" and len(seen) == 6


@st.composite
def dags(draw):
    n = draw(st.integers(min_value=1, max_value=14))
    edges = set()
    for target in range(1, n + 1):
        parents = draw(st.sets(st.integers(min_value=0, max_value=target - 1), min_size=1, max_size=3))
        edges |= {(p, target) for p in parents}
    return n, sorted(edges)


@settings(max_examples=40, deadline=None)
@given(dags())
def test_every_node_of_a_random_dag_runs_once_and_after_all_its_parents(dag):
    n, pairs = dag
    names = ["start"] + [f"n{i}" for i in range(1, n + 1)]
    doc = graph([node("start", "trigger.manual")] + [node(names[i], "test.record") for i in range(1, n + 1)],
                [edge(names[s], names[t]) for s, t in pairs])
    run_id = f"dag-{id(dag)}"

    async def go():
        sink = Collect()
        outcome = await Engine(Services()).run(compile_graph(doc, REGISTRY), run_id, {}, Emitter(run_id, [sink]))
        return outcome, sink

    outcome, sink = asyncio.run(go())
    assert outcome.status == "succeeded"
    finished = [e.node_id for e in sink.events if e.kind == "node.succeeded"]
    started = [e.node_id for e in sink.events if e.kind == "node.started"]
    assert sorted(finished) == sorted(names) and len(started) == len(set(started))
    for s, t in pairs:
        assert finished.index(names[s]) < started.index(names[t])
