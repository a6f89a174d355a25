"""Engine cost per cheap node: a 100-node chain of data.set, and a 100-wide fan-out
(trigger -> 100 data.set -> logic.merge).

Three ways to run the same work, measured here:
  plain   100 awaited async function calls doing data.set's dict work (the floor)
  engine  our engine (flows/engine.py): no Prefect, no database, sinks = an in-memory list
  naive   one Prefect task per node inside a Prefect flow, against the embedded Prefect server
          (each task costs milliseconds, so only a few repetitions)
Per-node cost = run wall time / nodes in the graph. Target: engine >= 20x cheaper than naive.

    .venv/bin/python -m bench.engine_cost [--quick]
"""

from __future__ import annotations

import uuid
from typing import Any

from bench.common import Options, Summary, main, now, ratio, show, stats, us

N = 100
TARGET_RATIO = 20.0


def _node(nid: str, type_: str, **config: Any) -> dict[str, Any]:
    return {"id": nid, "type": type_, "type_version": 1, "config": config}


def _edge(src: str, dst: str) -> dict[str, Any]:
    return {"id": f"{src}->{dst}", "source": src, "source_port": "output", "target": dst, "target_port": "input"}


def values_of(i: int) -> dict[str, Any]:
    return {"step": i, "name": "bench", "flags.ok": True}


def chain_graph(n: int = N) -> dict[str, Any]:
    nodes = [_node("start", "trigger.manual")] + [_node(f"s{i}", "data.set", values=values_of(i)) for i in range(n)]
    ids = [x["id"] for x in nodes]
    return {"schema_version": 1, "name": "chain", "nodes": nodes, "edges": [_edge(a, b) for a, b in zip(ids, ids[1:])]}


def fanout_graph(n: int = N) -> dict[str, Any]:
    nodes = ([_node("start", "trigger.manual")] + [_node(f"s{i}", "data.set", values=values_of(i)) for i in range(n)]
             + [_node("join", "logic.merge", mode="all")])
    edges = [_edge("start", f"s{i}") for i in range(n)] + [_edge(f"s{i}", "join") for i in range(n)]
    return {"schema_version": 1, "name": "fanout", "nodes": nodes, "edges": edges}


# ------------------------------------------------------------------ plain Python


def _set_path(target: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        child = target.get(part)
        if not isinstance(child, dict):
            child = target[part] = {}
        target = child
    target[last] = value


async def set_fields(values: dict[str, Any], incoming: Any) -> dict[str, Any]:
    """data.set's work, without the engine: build the object from the fields."""
    result: dict[str, Any] = {}
    for key, value in values.items():
        _set_path(result, key, value)
    return {"output": result}


async def plain_chain(payload: Any) -> Any:
    out: Any = payload
    for i in range(N):
        out = (await set_fields(values_of(i), out))["output"]
    return out


async def plain_fanout(payload: Any) -> Any:
    outs = [(await set_fields(values_of(i), payload))["output"] for i in range(N)]
    return list(outs)


# ------------------------------------------------------------------ naive Prefect


def naive_flows() -> tuple[Any, Any]:
    from prefect import flow, task
    from prefect.cache_policies import NO_CACHE

    @task(persist_result=False, cache_policy=NO_CACHE, log_prints=False)
    async def set_task(i: int, incoming: Any) -> dict[str, Any]:
        return (await set_fields(values_of(i), incoming))["output"]

    @task(persist_result=False, cache_policy=NO_CACHE, log_prints=False)
    async def merge_task(values: list[Any]) -> list[Any]:
        return list(values)

    @flow(persist_result=False, validate_parameters=False, log_prints=False)
    async def naive_chain(payload: Any) -> Any:
        out = payload
        for i in range(N):
            out = await set_task(i, out)
        return out

    @flow(persist_result=False, validate_parameters=False, log_prints=False)
    async def naive_fanout(payload: Any) -> Any:
        import asyncio

        outs = await asyncio.gather(*[set_task(i, payload) for i in range(N)])
        return await merge_task(list(outs))

    return naive_chain, naive_fanout


# ------------------------------------------------------------------ the benchmark


class ListSink:
    def __init__(self) -> None:
        self.events: list[Any] = []

    def emit(self, event: Any) -> None:
        self.events.append(event)


async def bench(opts: Options) -> list[Summary]:
    from bench.common import prefect_api_url
    from flows.compile import compile_graph
    from flows.engine import Emitter, Engine, Services
    from nodes.registry import build_registry

    registry = build_registry(with_plugins=False)
    engine = Engine(Services())
    reps = 10 if opts.quick else 40
    naive_reps = 1 if opts.quick else 3
    payload = {"name": "Ada", "vip": True}
    print(f"\n[engine_cost] {N}-node chain and {N}-wide fan-out; plain/engine x{reps}, naive Prefect x{naive_reps}",
          flush=True)

    shapes = (("chain", chain_graph(), plain_chain), ("fan-out", fanout_graph(), plain_fanout))
    naive_by_shape = dict(zip(("chain", "fan-out"), naive_flows()))

    async def measure(fn: Any, n: int, warm: int) -> list[float]:
        for _ in range(warm):
            await fn()
        times = []
        for _ in range(n):
            t0 = now()
            await fn()
            times.append(now() - t0)
        return times

    # plain and engine first, for both shapes, before the Prefect server is started (when
    # run alone) so that its process does not compete for the 2 cores
    measured: dict[str, dict[str, Any]] = {}
    for shape, raw, plain in shapes:
        plan = compile_graph(raw, registry)

        async def engine_once(plan: Any = plan) -> None:
            sink = ListSink()
            run_id = uuid.uuid4().hex
            outcome = await engine.run(plan, run_id, payload, Emitter(run_id, [sink]))
            assert outcome.status == "succeeded", outcome.error

        measured[shape] = {"nodes": len(plan.nodes),
                           "plain": stats(await measure(lambda plain=plain: plain(payload), reps * 5, 5)),
                           "engine": stats(await measure(engine_once, reps, 3))}

    api_url = await prefect_api_url(opts)
    from prefect.settings import PREFECT_API_URL, temporary_settings

    for shape, _raw, _plain in shapes:
        naive = naive_by_shape[shape]
        with temporary_settings(updates={PREFECT_API_URL: api_url}):
            measured[shape]["naive"] = stats(await measure(lambda: naive(payload), naive_reps, 1))

    summaries: list[Summary] = []
    rows = []
    for shape, m in measured.items():
        n_nodes, t_plain, t_engine, t_naive = m["nodes"], m["plain"], m["engine"], m["naive"]
        per = {k: s.p50 / n_nodes for k, s in (("plain", t_plain), ("engine", t_engine), ("naive", t_naive))}
        for key, name, s in (("plain", "plain Python (baseline)", t_plain), ("engine", "our engine", t_engine),
                             ("naive", "naive Prefect task per node", t_naive)):
            rows.append([shape, name, s.n, us(s.p50), us(s.p95), us(per[key])])
        e_plain = per["engine"] / per["plain"]
        naive_engine = per["naive"] / per["engine"]
        rows.append([shape, "ratio engine / plain", "", "", "", ratio(per["engine"], per["plain"])])
        rows.append([shape, "ratio naive / engine", "", "", "", ratio(per["naive"], per["engine"])])
        summaries += [
            Summary("engine_cost", f"engine per node, {shape} ({n_nodes} nodes)", us(per["engine"]),
                    f"plain {us(per['plain'])}", f"{e_plain:.0f}x plain", "-", None),
            Summary("engine_cost", f"naive Prefect per node, {shape}", us(per["naive"]),
                    f"engine {us(per['engine'])}", f"naive/engine {naive_engine:.0f}x", ">= 20x",
                    naive_engine >= TARGET_RATIO),
        ]
    show("engine_cost: per cheap node (run p50 / nodes)",
         ["graph", "how", "runs", "run p50", "run p95", "per node"], rows)
    return summaries


if __name__ == "__main__":
    main(bench, __doc__ or "")
