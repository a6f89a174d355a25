"""Workflow-shaped throughput: email-campaign runs (gallery template with its defaults:
offline AI, compose, verify, send to the built-in outbox) started at once through the app's
RunManager on the embedded Prefect server, every node recorded by the real DbRecorder;
beside a bare Prefect flow with the same number of tasks, measured in the same process.

    .venv/bin/python -m bench.workflow_runs [--quick] [--postgres]     # MAILY_BENCH_RUNS=N: N runs
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from bench.common import Options, Summary, database, main, make_tenant, now, percentile, prefect_api_url, ratio, show

TARGET_RPS = 15.0
TARGET_P50_S = 0.1


def _runs_wanted(opts: Options) -> int:
    if os.environ.get("MAILY_BENCH_RUNS"):
        return int(os.environ["MAILY_BENCH_RUNS"])
    return 60 if opts.quick else 200


class _StartTimes:
    """An event sink noting when each run's first node began (start latency = that - submit)."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}

    def emit(self, event: Any) -> None:
        if event.kind == "node.started" and event.run_id not in self.started:
            self.started[event.run_id] = now()


async def _campaign_runs(opts: Options, url: str, n: int) -> dict[str, Any]:
    from backend.db.session import Database
    from backend.runs.node_services import close_node_services, node_services
    from backend.runs.recorder import DbRecorder
    from backend.settings import Settings
    from bench.throughput import _check_recorded, _insert_runs
    from flows.compile import compile_graph
    from flows.prefect_server import PrefectApi
    from flows.runner import RunManager
    from nodes.registry import default_registry
    from templates.format import instantiate
    from templates.gallery import builtin_templates

    registry = default_registry()
    tpl = builtin_templates(registry)["email-campaign"]
    graph, _ = instantiate(tpl, {})
    for node in graph["nodes"]:   # measured through the send: the durable wait for send_at is left out
        if node["id"] == "wait":
            node["config"] = {"seconds": 0}
    plan = compile_graph(graph, registry)
    node_types = {nid: node.type.spec.type for nid, node in plan.nodes.items()}
    await prefect_api_url(opts)   # the embedded server, shared with the baseline
    from bench import common

    api: PrefectApi = common._prefect
    settings = Settings(database_url=url, data_dir=opts.workdir, secret_key="bench-secret-key", prefect_at_start=False)
    db = Database(url)
    services = node_services(settings)
    try:
        tenant = await make_tenant(db, "campaign")
        recorder = DbRecorder(db)
        starts = _StartTimes()
        runner = RunManager(sinks=[recorder, starts], services=services, prefect=api, prefect_mode="always",
                            max_concurrent_per_tenant=n)
        ids = await _insert_runs(db, tenant, graph, n)
        submitted: dict[str, float] = {}
        t0 = now()
        tasks = []
        for rid in ids:
            recorder.register(rid, tenant.id, node_types)
            submitted[rid] = now()
            tasks.append(runner.submit(compile_graph(graph, registry), rid, tpl.sample_input, tenant_id=tenant.id))
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        await recorder.flush()
        wall = now() - t0
        ok = sum(1 for o in outcomes if not isinstance(o, BaseException) and o.status == "succeeded")
        errors = [o if isinstance(o, BaseException) else o.error for o in outcomes
                  if isinstance(o, BaseException) or o.status != "succeeded"]
        good, _rows = await _check_recorded(db, ids, len(plan.nodes))
    finally:
        await close_node_services(services)
        await db.dispose()
    latency = [starts.started[r] - submitted[r] for r in ids if r in starts.started]
    durable = sum(1 for node in plan.nodes.values() if node.durable)
    return {"n": n, "ok": ok, "good": good, "wall": wall, "errors": errors[:3], "nodes": len(plan.nodes),
            "p50": percentile(latency, 50) if latency else float("nan"), "durable": durable}


async def _bare_prefect(opts: Options, n: int, tasks_per_flow: int) -> tuple[float, int]:
    """n bare Prefect flows of tasks_per_flow no-op tasks each, at once (plain Prefect: no
    back-pressure, so some may fail with a 503); returns (wall time, flows completed)."""
    api_url = await prefect_api_url(opts)
    from prefect import flow, task
    from prefect.cache_policies import NO_CACHE
    from prefect.settings import PREFECT_API_URL, temporary_settings

    @task(persist_result=False, cache_policy=NO_CACHE)
    async def step(i: int) -> int:
        return i

    @flow(persist_result=False, validate_parameters=False, log_prints=False)
    async def bare(k: int) -> int:
        for i in range(tasks_per_flow):
            await step(i)
        return k

    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        await bare(-1)
        t0 = now()
        states = await asyncio.gather(*[bare(k, return_state=True) for k in range(n)], return_exceptions=True)
        wall = now() - t0
    return wall, sum(1 for s in states if not isinstance(s, BaseException) and s.is_completed())


async def bench(opts: Options) -> list[Summary]:
    n = _runs_wanted(opts)
    print(f"\n[workflow runs] {n} email-campaign runs at once on the embedded Prefect server "
          f"({opts.backend}), beside {n} bare Prefect flows with as many tasks", flush=True)
    async with database(opts, "campaign") as url:
        r = await _campaign_runs(opts, url, n)
    print(f"  ours: {r['ok']}/{n} succeeded in {r['wall']:.2f} s ({n / r['wall']:.1f} runs/s), "
          f"start p50 {r['p50'] * 1000:.0f} ms", flush=True)
    bare_wall, bare_ok = await _bare_prefect(opts, n, r["durable"])
    rps, bare_rps = n / r["wall"], n / bare_wall
    all_ok = r["ok"] == n and r["good"] == n
    show(f"workflow runs ({opts.backend}; targets: >= {TARGET_RPS:.0f} runs/s, start p50 < 100 ms, all succeed)",
         ["what", "succeeded", "wall", "runs/s", "/ bare Prefect", "start p50"],
         [[f"{n} email-campaign runs ({r['nodes']} nodes, {r['durable']} Prefect tasks)", f"{r['ok']}/{n}",
           f"{r['wall']:.2f} s", f"{rps:.1f}/s", ratio(rps, bare_rps), f"{r['p50'] * 1000:.0f} ms"],
          [f"{n} bare Prefect flows x {r['durable']} tasks (baseline)", f"{bare_ok}/{n}", f"{bare_wall:.2f} s",
           f"{bare_rps:.1f}/s", "1.00x", "-"]])
    if r["errors"]:
        print("  failures:", r["errors"], flush=True)
    return [Summary("workflow runs", f"{n} email-campaign runs at once ({opts.backend})", f"{rps:.1f} runs/s",
                    f"bare Prefect {bare_rps:.1f} flows/s", ratio(rps, bare_rps), ">= 15 runs/s, all succeed",
                    rps >= TARGET_RPS and all_ok),
            Summary("workflow runs", "start latency p50 (submit -> first node)", f"{r['p50'] * 1000:.0f} ms",
                    "-", "", "< 100 ms", r["p50"] < TARGET_P50_S)]


if __name__ == "__main__":
    main(bench, __doc__ or "")
