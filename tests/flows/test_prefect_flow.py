"""Runs with durable nodes go through a real embedded Prefect server: tasks, retries, state."""

from __future__ import annotations

import asyncio

import pytest

from flows.compile import compile_graph
from flows.engine import Emitter, Engine, Services
from flows.prefect_clients import SharedPrefectClients
from flows.prefect_flow import run_as_prefect_flow
from flows.prefect_record import PrefectRecorder
from flows.runner import RunManager
from tests.flows import fakes
from tests.flows.fakes import edge, graph, node
from tests.flows.test_engine import Collect

REGISTRY = fakes.registry()


async def _flow_run(api_url: str, flow_run_id: str, timeout: float = 30, *, tasks_too: bool = True):
    """The flow run and its task runs once Prefect has recorded their final states (task run
    states reach the server through its event stream, a little after the run); with
    tasks_too=False, once the flow run alone is final."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        async with get_client() as client:
            while True:
                flow_run = await client.read_flow_run(flow_run_id)
                tasks = [t for t in await client.read_task_runs() if t.flow_run_id == flow_run.id]
                settled = flow_run.state is not None and flow_run.state.is_final() and (not tasks_too or tasks and all(
                    t.state is not None and t.state.is_final() for t in tasks))
                if settled or loop.time() > deadline:
                    return flow_run, tasks
                await asyncio.sleep(0.2)


class _Noted:
    """on_flow_run: the flow run each run's record created."""

    def __init__(self) -> None:
        self.flow_runs: dict[str, str] = {}

    async def __call__(self, run_id: str, flow_run_id: str) -> None:
        self.flow_runs[run_id] = flow_run_id


async def _recorded(prefect_api, plan, run_id: str, sink) -> tuple[object, str]:
    """Run the plan with its Prefect record; the outcome and the flow run id once caught up."""
    noted = _Noted()
    recorder = PrefectRecorder(prefect_api, SharedPrefectClients(), on_flow_run=noted)
    try:
        outcome = await run_as_prefect_flow(Engine(Services()), plan, run_id, {}, Emitter(run_id, [sink]),
                                            recorder=recorder)
        await asyncio.wait_for(recorder.caught_up(), 30)
    finally:
        await recorder.clients.close()
    return outcome, noted.flow_runs[run_id]


async def test_durable_nodes_become_prefect_tasks_and_cheap_nodes_stay_fused(prefect_api):
    """The flow run ends completed with one task run, the durable node's, which records the engine's two attempts."""
    api_url = await prefect_api.ready()
    doc = graph([node("start", "trigger.manual"), node("a", "data.set", values={"x": 1}),
                 node("send", "test.flaky_durable", fail_times=1, retries=2, retry_backoff_s=0.05),
                 node("b", "data.set", values={"y": "{{ nodes.send.output.attempts }}"})],
                [edge("start", "a"), edge("a", "send"), edge("send", "b")], name="durable")
    sink = Collect()
    outcome, flow_run_id = await _recorded(prefect_api, compile_graph(doc, REGISTRY), "pf-1", sink)
    assert outcome.status == "succeeded", outcome.error
    assert outcome.output == {"b": {"y": 2}}
    assert sink.kinds("send") == ["node.started", "node.retrying", "node.succeeded"]
    flow_run, task_runs = await _flow_run(api_url, flow_run_id)
    assert flow_run.state.is_completed() and flow_run.name == "pf-1"
    assert [t.name for t in task_runs] == ["send"]                 # one task: the durable node only
    assert task_runs[0].run_count == 2 and task_runs[0].state.is_completed()
    assert flow_run.start_time is not None and flow_run.end_time is not None


async def test_a_user_mistake_in_a_durable_node_is_not_retried(prefect_api):
    """A config error fails the node at its first attempt; Prefect records a failed flow run and task run."""
    api_url = await prefect_api.ready()
    doc = graph([node("start", "trigger.manual"), node("send", "test.flaky_durable", fail_times=3, kind="config", retries=3)],
                [edge("start", "send")], name="durable-fail")
    sink = Collect()
    outcome, flow_run_id = await _recorded(prefect_api, compile_graph(doc, REGISTRY), "pf-2", sink)
    assert outcome.status == "failed" and outcome.error["kind"] == "config"
    flow_run, task_runs = await _flow_run(api_url, flow_run_id)
    assert flow_run.state.is_failed()
    assert task_runs[0].run_count == 1 and task_runs[0].state.is_failed()


async def test_a_run_starts_before_its_prefect_record_is_written(prefect_api):
    """The engine's first node starts while the flow run is still being created: a run never waits for Prefect."""
    await prefect_api.ready()
    doc = graph([node("start", "trigger.manual"), node("d", "util.delay", seconds=0)], [edge("start", "d")])
    noted = _Noted()
    recorder = PrefectRecorder(prefect_api, SharedPrefectClients(), on_flow_run=noted)
    seen: list[bool] = []

    class Probe:
        def emit(self, event):
            if event.kind == "node.started":
                seen.append("pf-3" in noted.flow_runs)

    try:
        outcome = await run_as_prefect_flow(Engine(Services()), compile_graph(doc, REGISTRY), "pf-3", {},
                                            Emitter("pf-3", [Probe()]), recorder=recorder)
        await asyncio.wait_for(recorder.caught_up(), 30)
    finally:
        await recorder.clients.close()
    assert outcome.status == "succeeded" and seen[0] is False and noted.flow_runs["pf-3"]


async def test_the_run_manager_sends_durable_plans_through_prefect_and_pure_ones_inline(prefect_api):
    """A durable plan gets a Prefect flow run, a pure one none."""
    noted = _Noted()
    manager = RunManager(sinks=[], prefect=prefect_api, prefect_mode="auto", on_prefect_flow_run=noted)
    pure = compile_graph(graph([node("start", "trigger.manual"), node("a", "data.set")], [edge("start", "a")]), REGISTRY)
    durable = compile_graph(graph([node("start", "trigger.manual"), node("d", "util.delay", seconds=0)],
                                  [edge("start", "d")]), REGISTRY)
    results = await asyncio.gather(manager.submit(pure, "m-pure", {}), manager.submit(durable, "m-durable", {}))
    assert [r.status for r in results] == ["succeeded", "succeeded"]
    await manager.shutdown(grace_s=30)
    assert set(noted.flow_runs) == {"m-durable"}


async def _until(check) -> None:
    while not check():
        await asyncio.sleep(0)


async def test_runs_beyond_the_tenant_limit_wait_in_the_queue():
    manager = RunManager(sinks=[], prefect=None, max_concurrent_per_tenant=1)
    plan = compile_graph(graph([node("start", "trigger.manual"), node("d", "util.delay", seconds=0.2)],
                               [edge("start", "d")]), REGISTRY)
    first = manager.submit(plan, "q-1", {}, tenant_id="t")
    second = manager.submit(plan, "q-2", {}, tenant_id="t")
    other = manager.submit(plan, "q-3", {}, tenant_id="u")
    await asyncio.wait_for(_until(lambda: manager.queued("t") == 1), 5)
    assert manager.queued("u") == 0
    await asyncio.gather(first, second, other)
    assert manager.queued("t") == 0


async def test_cancelling_a_queued_run_ends_it_cancelled_without_running():
    sink = Collect()
    manager = RunManager(sinks=[sink], prefect=None, max_concurrent_per_tenant=1)
    plan = compile_graph(graph([node("start", "trigger.manual"), node("d", "util.delay", seconds=0.3)],
                               [edge("start", "d")]), REGISTRY)
    first = manager.submit(plan, "c-1", {}, tenant_id="t")
    manager.submit(plan, "c-2", {}, tenant_id="t")
    await sink.seen("node.started", "d")   # c-1 runs, so c-2 waits in the queue
    assert await manager.cancel("c-2") is True
    assert (await first).status == "succeeded"
    assert [e.kind for e in sink.events if e.run_id == "c-2"] == ["run.queued", "run.cancelled"]


async def test_shutdown_interrupts_runs_without_recording_an_end_so_the_next_start_resumes_them():
    """A stop records nothing after it for the running and queued runs: no run.cancelled, no node.cancelled."""
    sink = Collect()
    manager = RunManager(sinks=[sink], prefect=None, max_concurrent_per_tenant=1)
    plan = compile_graph(graph([node("start", "trigger.manual"), node("d", "util.delay", seconds=30)],
                               [edge("start", "d")]), REGISTRY)
    running = manager.submit(plan, "s-1", {}, tenant_id="t")
    queued = manager.submit(plan, "s-2", {}, tenant_id="t")
    for _ in range(100):
        if any(e.kind == "node.started" and e.node_id == "d" for e in sink.events):
            break
        await asyncio.sleep(0.02)
    await manager.shutdown()
    assert running.done() and queued.done()
    assert [e.kind for e in sink.events if e.run_id == "s-2"] == ["run.queued"]
    kinds = [e.kind for e in sink.events if e.run_id == "s-1"]
    assert kinds[-1] == "node.started" and not any(k.endswith(("cancelled", "failed", "paused")) for k in kinds)


async def test_runs_beyond_the_process_limit_wait_visibly_in_the_queue():
    """With one run allowed in the process, a second tenant's run is listed queued (not running) until the first ends."""
    fakes.GATES["admit"] = gate = asyncio.Event()
    manager = RunManager(sinks=[], prefect=None, max_running=1)
    plan = compile_graph(graph([node("start", "trigger.manual"), node("w", "test.gate", key="admit")],
                               [edge("start", "w")], name="gated"), REGISTRY)
    first = manager.submit(plan, "all-1", {}, tenant_id="t")
    second = manager.submit(plan, "all-2", {}, tenant_id="u")
    while manager.queue_of("u") != ([], ["all-2"]) or manager.queue_of("t") != (["all-1"], []):
        await asyncio.sleep(0.02)
    gate.set()
    assert [(await first).status, (await second).status] == ["succeeded", "succeeded"]
    assert manager.queue_of("t") == ([], []) and manager.queue_of("u") == ([], [])


async def _state_history(api_url: str, flow_run_id: str) -> tuple[list[str], dict[str, list[str]]]:
    """The flow run's state names in order, and each of its task runs' (by name)."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        async with get_client() as client:
            flow_states = [s.name for s in await client.read_flow_run_states(flow_run_id)]
            tasks = {}
            for t in await client.read_task_runs():
                if str(t.flow_run_id) == flow_run_id:
                    tasks[t.name] = [s.name for s in await client.read_task_run_states(t.id)]
    return flow_states, tasks


async def _gated_runs(prefect_api, run_ids: list[str], *, max_calls: int, defer_s: float = 10.0,
                      open_after: float = 0.0):
    """Runs of start -> test.gate (a durable node) recorded by one recorder; the gates open
    once every run's flow run exists (open_after=0) or after open_after seconds."""
    noted = _Noted()
    recorder = PrefectRecorder(prefect_api, SharedPrefectClients(), on_flow_run=noted, max_calls=max_calls,
                               defer_s=defer_s)
    plans = {rid: compile_graph(graph([node("start", "trigger.manual"), node("gate", "test.gate", key=rid)],
                                      [edge("start", "gate")], name="gated"), REGISTRY) for rid in run_ids}
    try:
        runs = [asyncio.create_task(run_as_prefect_flow(Engine(Services()), plans[rid], rid, {},
                                                        Emitter(rid, [Collect()]), recorder=recorder))
                for rid in run_ids]
        if open_after:
            await asyncio.sleep(open_after)
        else:
            await asyncio.wait_for(_until(lambda: all(rid in noted.flow_runs for rid in run_ids)), 30)
        created_before_end = set(noted.flow_runs)
        for rid in run_ids:
            fakes.GATES.setdefault(rid, asyncio.Event()).set()
        outcomes = await asyncio.gather(*runs)
        await asyncio.wait_for(recorder.caught_up(), 30)
    finally:
        await recorder.clients.close()
    assert [o.status for o in outcomes] == ["succeeded"] * len(run_ids)
    return noted.flow_runs, created_before_end


async def test_a_run_recorded_while_it_runs_shows_every_state_in_prefect(prefect_api):
    """With the recorder light, the flow run is created Running as the run starts, then set Completed; its task run goes Running then Completed."""
    api_url = await prefect_api.ready()
    flow_runs, created_before_end = await _gated_runs(prefect_api, ["light-1"], max_calls=16)
    assert created_before_end == {"light-1"}
    flow_states, tasks = await _state_history(api_url, flow_runs["light-1"])
    assert flow_states == ["Running", "Completed"]
    assert tasks == {"gate": ["Running", "Completed"]}


async def test_under_load_a_short_run_is_recorded_in_one_call_with_final_states_only(prefect_api):
    """More runs recorded than calls allowed: each flow run waits for its run's end and is created Completed, each task run gets its final state only."""
    api_url = await prefect_api.ready()
    ids = ["burst-1", "burst-2", "burst-3"]
    flow_runs, created_before_end = await _gated_runs(prefect_api, ids, max_calls=1, open_after=0.5)
    assert created_before_end == set()                 # nothing written while the runs ran
    for rid in ids:
        flow_states, tasks = await _state_history(api_url, flow_runs[rid])
        assert flow_states == ["Completed"]
        assert tasks == {"gate": ["Completed"]}
    flow_run, task_runs = await _flow_run(api_url, flow_runs["burst-1"])
    assert task_runs[0].start_time < task_runs[0].end_time   # the node's own times, not the write's


async def test_under_load_a_long_run_is_shown_running_after_the_deferral(prefect_api):
    """The deferral is bounded: a run still running after defer_s gets its flow run created Running, then Completed."""
    api_url = await prefect_api.ready()
    ids = ["long-1", "long-2"]
    flow_runs, created_before_end = await _gated_runs(prefect_api, ids, max_calls=1, defer_s=0.2)
    assert created_before_end == set(ids)
    for rid in ids:
        flow_states, _tasks = await _state_history(api_url, flow_runs[rid])
        assert flow_states == ["Running", "Completed"]
