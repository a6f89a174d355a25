"""Throughput: trivial runs (trigger -> data.set) completed per second, with every node
recorded in the database by the real DbRecorder.

  trivial   50 and 500 runs submitted at once to a RunManager (the app's defaults: at most
            50 running per tenant, the rest queued); wall time from the first submit until
            every run ended AND the recorder flushed it (`await recorder.flush()`); then the
            node_runs table must hold exactly 2 rows per run.
  baseline  raw Prefect flow runs (a trivial async @flow), 50 at once (--quick: 20) through
            asyncio.gather against the embedded Prefect server, measured in the same run.
  in flight 1,000 runs of trigger -> util.delay(1 s) -> data.set at once, prefect_mode
            "never" (in-process), no per-tenant cap: all must succeed; wall time and the
            growth of the process RSS while they are all waiting.
  workflow  1,000 email-campaign runs at once recorded in Prefect, beside the same runs
            without Prefect and 200 bare Prefect flows with as many tasks (bench/workflow_runs.py;
            --quick: 60, MAILY_BENCH_RUNS=N, MAILY_BENCH_BARE=N).
Target: at least 50 trivial runs/s; workflow runs: see bench/workflow_runs.py.

    .venv/bin/python -m bench.throughput [--quick] [--postgres]
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timezone
from typing import Any

from bench.common import Options, Summary, database, main, make_tenant, mib, now, ratio, rss_bytes, show

TARGET_RPS = 50.0


def _node(nid: str, type_: str, **config: Any) -> dict[str, Any]:
    return {"id": nid, "type": type_, "type_version": 1, "config": config}


def _edge(src: str, dst: str) -> dict[str, Any]:
    return {"id": f"{src}->{dst}", "source": src, "source_port": "output", "target": dst, "target_port": "input"}


TRIVIAL = {"schema_version": 1, "name": "trivial",
           "nodes": [_node("start", "trigger.manual"), _node("set", "data.set", values={"ok": True, "n": "{{ trigger.n }}"})],
           "edges": [_edge("start", "set")]}
DELAYED = {"schema_version": 1, "name": "delayed",
           "nodes": [_node("start", "trigger.manual"), _node("wait", "util.delay", seconds=1),
                     _node("set", "data.set", values={"ok": True})],
           "edges": [_edge("start", "wait"), _edge("wait", "set")]}


async def _insert_runs(db: Any, tenant: Any, graph: dict[str, Any], n: int) -> list[str]:
    """The runs' own rows, as POST /api/runs creates them before submitting (not timed)."""
    from sqlalchemy import insert

    from backend.db.models import Run

    ids = [uuid.uuid4().hex for _ in range(n)]
    created = datetime.now(timezone.utc)
    rows = [{"id": rid, "tenant_id": tenant.id, "status": "queued", "trigger": "api", "input": {"n": i},
             "graph": graph, "created_by": tenant.user_id, "created_at": created} for i, rid in enumerate(ids)]
    async with db.engine.begin() as conn:
        await conn.execute(insert(Run.__table__), rows)
    return ids


async def _check_recorded(db: Any, ids: list[str], nodes_per_run: int,
                          ended: tuple[str, ...] = ("succeeded",)) -> tuple[int, int]:
    """(runs that succeeded with exactly nodes_per_run node rows ended in `ended`, node rows in all)."""
    from sqlalchemy import func, select

    from backend.db.models import NodeRun, Run

    good, rows = 0, 0
    async with db.engine.connect() as conn:
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            counts = dict((await conn.execute(
                select(NodeRun.run_id, func.count()).where(NodeRun.run_id.in_(chunk), NodeRun.status.in_(ended))
                .group_by(NodeRun.run_id))).all())
            rows += (await conn.scalar(select(func.count()).select_from(NodeRun).where(NodeRun.run_id.in_(chunk)))) or 0
            statuses = dict((await conn.execute(select(Run.id, Run.status).where(Run.id.in_(chunk)))).all())
            good += sum(1 for r in chunk if counts.get(r) == nodes_per_run and statuses.get(r) == "succeeded")
    return good, rows


async def _batch(db: Any, tenant: Any, graph: dict[str, Any], n: int, *, max_concurrent: int = 50,
                 sample_rss_after: float | None = None) -> dict[str, Any]:
    from backend.runs.recorder import DbRecorder
    from flows.compile import compile_graph
    from flows.runner import RunManager
    from nodes.registry import default_registry

    registry = default_registry()
    plan = compile_graph(graph, registry)
    node_types = {nid: node.type.spec.type for nid, node in plan.nodes.items()}
    ids = await _insert_runs(db, tenant, graph, n)
    recorder = DbRecorder(db)
    runner = RunManager(sinks=[recorder], prefect=None, prefect_mode="never", max_concurrent_per_tenant=max_concurrent,
                        max_running=max(max_concurrent, 100))   # the in-flight case: all 1,000 at once
    rss0 = rss_bytes()
    rss_peak = rss0
    t0 = now()
    tasks = []
    for i, rid in enumerate(ids):
        recorder.register(rid, tenant.id, node_types)
        tasks.append(runner.submit(compile_graph(graph, registry), rid, {"n": i}, tenant_id=tenant.id))
    if sample_rss_after is not None:
        await asyncio.sleep(sample_rss_after)
        rss_peak = max(rss_peak, rss_bytes())
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    t_runs = now() - t0
    await recorder.flush()
    wall = now() - t0
    rss_peak = max(rss_peak, rss_bytes())
    ok = sum(1 for o in outcomes if not isinstance(o, BaseException) and o.status == "succeeded")
    good, rows = await _check_recorded(db, ids, len(plan.nodes))
    await runner.shutdown()
    return {"n": n, "ok": ok, "wall": wall, "t_runs": t_runs, "good": good, "rows": rows,
            "nodes": len(plan.nodes), "rss_growth": rss_peak - rss0}


async def _raw_prefect(opts: Options, n: int, n_seq: int) -> tuple[float, float]:
    from bench.common import prefect_api_url

    api_url = await prefect_api_url(opts)
    from prefect import flow
    from prefect.settings import PREFECT_API_URL, temporary_settings

    @flow(persist_result=False, validate_parameters=False, log_prints=False)
    async def trivial(i: int) -> dict[str, Any]:
        return {"ok": True, "n": i}

    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        await trivial(-1)  # warm up
        t0 = now()
        states = await asyncio.gather(*[trivial(i, return_state=True) for i in range(n)])
        wall = now() - t0
        t0 = now()
        for i in range(n_seq):  # for reference: the same flows one after another
            await trivial(i)
        seq_wall = now() - t0
    failed = [s for s in states if not s.is_completed()]
    assert not failed, failed[:3]
    return wall, seq_wall


async def bench(opts: Options) -> list[Summary]:
    from backend.db.session import Database

    sizes = (50, 500)
    n_prefect = 20 if opts.quick else 50
    n_flight = 200 if opts.quick else 1000
    print(f"\n[throughput] trivial runs {sizes} through RunManager + DbRecorder ({opts.backend}); "
          f"raw Prefect x{n_prefect}; {n_flight} delayed runs in flight", flush=True)
    summaries: list[Summary] = []
    async with database(opts, "throughput") as url:
        db = Database(url)
        try:
            tenant = await make_tenant(db, "throughput")
            await _batch(db, tenant, TRIVIAL, 20)   # warm up: imports, connections, caches
            results = [await _batch(db, tenant, TRIVIAL, n) for n in sizes]
            flight_tenant = await make_tenant(db, "flight")
            flight = await _batch(db, flight_tenant, DELAYED, n_flight, max_concurrent=n_flight,
                                  sample_rss_after=0.8)
        finally:
            await db.dispose()
    n_seq = 5 if opts.quick else 10
    prefect_wall, seq_wall = await _raw_prefect(opts, n_prefect, n_seq)
    prefect_rps = n_prefect / prefect_wall

    rows = []
    for r in results:
        rps = r["n"] / r["wall"]
        recorded = r["good"] == r["n"] and r["rows"] == r["n"] * r["nodes"]
        rows.append([f"{r['n']} trivial runs, RunManager + DbRecorder", f"{r['ok']}/{r['n']}", f"{r['wall']:.2f} s",
                     f"{rps:.0f}/s", ratio(rps, prefect_rps),
                     f"{r['rows']} rows ({'2 per run' if recorded else 'WRONG'})"])
        summaries.append(Summary("throughput", f"{r['n']} trivial runs at once ({opts.backend}), recorded",
                                 f"{rps:.0f} runs/s", f"raw Prefect {prefect_rps:.1f} flows/s", ratio(rps, prefect_rps),
                                 ">= 50 runs/s", rps >= TARGET_RPS and recorded and r["ok"] == r["n"]))
    rows.append([f"{n_prefect} raw Prefect flows (baseline)", f"{n_prefect}/{n_prefect}", f"{prefect_wall:.2f} s",
                 f"{prefect_rps:.1f}/s", "1.00x", "- (Prefect's own database)"])
    rows.append([f"{n_seq} raw Prefect flows one after another (reference)", f"{n_seq}/{n_seq}", f"{seq_wall:.2f} s",
                 f"{n_seq / seq_wall:.1f}/s", ratio(n_seq / seq_wall, prefect_rps), "-"])
    f_ok = flight["ok"] == flight["n"] and flight["good"] == flight["n"]
    rows.append([f"{flight['n']} runs in flight (delay 1 s), never Prefect", f"{flight['ok']}/{flight['n']}",
                 f"{flight['wall']:.2f} s", f"{flight['n'] / flight['wall']:.0f}/s", "",
                 f"{flight['rows']} rows; RSS +{mib(flight['rss_growth'])}"])
    show(f"throughput ({opts.backend}; target: >= {TARGET_RPS:.0f} trivial runs/s)",
         ["what", "succeeded", "wall (until recorded)", "runs/s", "/ raw Prefect", "node_runs"], rows)
    summaries.append(Summary("throughput", f"{flight['n']} delayed runs in flight at once",
                             f"{flight['ok']}/{flight['n']} ok in {flight['wall']:.2f} s, RSS +{mib(flight['rss_growth'])}",
                             "1 s delay", f"{flight['wall']:.2f}x the delay", "all succeed", f_ok))
    # the workflows users build (AI, email) go through Prefect: the trivial figure alone hides that
    from bench import workflow_runs

    return summaries + await workflow_runs.bench(opts)


if __name__ == "__main__":
    main(bench, __doc__ or "")
