"""Workflow-shaped throughput: email-campaign runs (gallery template with its defaults:
offline AI, compose, verify, send to the built-in outbox) started at once through the app's
RunManager, every node recorded by the real DbRecorder and every run recorded in the embedded
Prefect server (a flow run, a task run per durable node: flows/prefect_record.py); beside
the same runs without Prefect, and bare Prefect flows with as many tasks, in the same process.

runs/s counts until the Prefect record caught up, not just until the runs ended. CPU per run
is read from /proc for this process, the Prefect server and the embedded PostgreSQL servers:
on a shared machine it is the figure to read (wall times there follow the other load).

    .venv/bin/python -m bench.workflow_runs [--quick] [--postgres]
    # MAILY_BENCH_RUNS=N (default 1,000, --quick 60), MAILY_BENCH_BARE=N (bare flows, default 200)
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from bench.common import Options, Summary, database, main, make_tenant, now, percentile, prefect_api_url, ratio, show

TARGET_RPS = 15.0


def _runs_wanted(opts: Options) -> int:
    if os.environ.get("MAILY_BENCH_RUNS"):
        return int(os.environ["MAILY_BENCH_RUNS"])
    return 60 if opts.quick else 1000


class _StartTimes:
    """An event sink noting when each run's first node began (start latency = that - submit)."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}

    def emit(self, event: Any) -> None:
        if event.kind == "node.started" and event.run_id not in self.started:
            self.started[event.run_id] = now()


def cpu_s(pid: int | None) -> float:
    """CPU seconds (user + system) a process has used so far; 0 without it."""
    if pid is None:
        return 0.0
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_s(root: Any) -> float:
    """CPU seconds of the embedded PostgreSQL servers under `root`: each postmaster, the
    backends it reaped and the ones alive (0 with an external PostgreSQL)."""
    from pathlib import Path

    total = 0.0
    for pid_file in Path(root).rglob("postmaster.pid"):
        try:
            master = int(pid_file.read_text().split()[0])
            fields = open(f"/proc/{master}/stat").read().rsplit(")", 1)[1].split()
        except (OSError, ValueError, IndexError):
            continue
        total += sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                child = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(child[1]) == master:
                total += (int(child[11]) + int(child[12])) / os.sysconf("SC_CLK_TCK")
    return total


async def _campaign_runs(opts: Options, url: str, n: int, mode: str = "always") -> dict[str, Any]:
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
        runner = RunManager(sinks=[recorder, starts], services=services, prefect=api, prefect_mode=mode,
                            max_concurrent_per_tenant=n)
        ids = await _insert_runs(db, tenant, graph, n)
        submitted: dict[str, float] = {}
        cpu0, server0, pg0 = cpu_s(os.getpid()), cpu_s(api.pid), postgres_cpu_s(opts.workdir)
        t0 = now()
        tasks = []
        for rid in ids:
            recorder.register(rid, tenant.id, node_types)
            submitted[rid] = now()
            tasks.append(runner.submit(compile_graph(graph, registry), rid, tpl.sample_input, tenant_id=tenant.id))
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        await recorder.flush()
        wall = now() - t0
        await runner.prefect_record.caught_up()      # every flow run and task run written to Prefect
        caught_up = now() - t0
        cpu, server_cpu = cpu_s(os.getpid()) - cpu0, cpu_s(api.pid) - server0
        pg_cpu = postgres_cpu_s(opts.workdir) - pg0
        calls = runner.prefect_record.calls
        await runner.prefect_record.close()
        await runner._prefect_clients.close()
        ok = sum(1 for o in outcomes if not isinstance(o, BaseException) and o.status == "succeeded")
        errors = [o if isinstance(o, BaseException) else o.error for o in outcomes
                  if isinstance(o, BaseException) or o.status != "succeeded"]
        good, _rows = await _check_recorded(db, ids, len(plan.nodes), ("succeeded", "skipped"))
    finally:
        await close_node_services(services)
        await db.dispose()
    latency = [starts.started[r] - submitted[r] for r in ids if r in starts.started]
    durable = sum(1 for node in plan.nodes.values() if node.durable)
    return {"n": n, "ok": ok, "good": good, "wall": wall, "caught_up": caught_up, "calls": calls,
            "cpu": cpu, "server_cpu": server_cpu, "pg_cpu": pg_cpu,
            "errors": errors[:3], "nodes": len(plan.nodes),
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


class _ServerErrors(logging.Handler):
    """Counts the 5xx answers the process's HTTP clients log (httpx logs each response at INFO)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if " 50" in record.getMessage().rsplit('"', 1)[-1]:
            self.count += 1


async def bench(opts: Options) -> list[Summary]:
    n = _runs_wanted(opts)
    n_bare = min(n, int(os.environ.get("MAILY_BENCH_BARE", "200")))
    print(f"\n[workflow runs] {n} email-campaign runs at once on the embedded Prefect server "
          f"({opts.backend}), beside the same without Prefect and {n_bare} bare Prefect flows with as many tasks",
          flush=True)
    errors = _ServerErrors()
    httpx_log = logging.getLogger("httpx")
    httpx_log.addHandler(errors)
    httpx_log.setLevel(logging.INFO)
    httpx_log.propagate = False
    try:
        async with database(opts, "campaign") as url:
            r = await _campaign_runs(opts, url, n)
            ours_5xx = errors.count
            print(f"  ours: {r['ok']}/{n} succeeded in {r['wall']:.2f} s, start p50 {r['p50'] * 1000:.0f} ms; "
                  f"Prefect record caught up at {r['caught_up']:.2f} s ({r['calls']} API calls)", flush=True)
            plain = await _campaign_runs(opts, url, n, mode="never")
        from bench import common
        server0, cpu0, pg0 = cpu_s(common._prefect.pid), cpu_s(os.getpid()), postgres_cpu_s(opts.workdir)
        errors.count = 0
        bare_wall, bare_ok = await _bare_prefect(opts, n_bare, r["durable"])
        bare_cpu, bare_server = cpu_s(os.getpid()) - cpu0, cpu_s(common._prefect.pid) - server0
        bare_pg = postgres_cpu_s(opts.workdir) - pg0
        bare_5xx = errors.count
    finally:
        httpx_log.removeHandler(errors)
    rps, bare_rps = n / r["caught_up"], n_bare / bare_wall
    all_ok = r["ok"] == n and r["good"] == n and ours_5xx == 0

    def per_run(cpu: float, runs: int) -> str:
        return f"{cpu / runs * 1000:.1f} ms"

    show(f"workflow runs ({opts.backend}; targets: >= {TARGET_RPS:.0f} runs/s, all succeed, no 5xx)",
         ["what", "succeeded", "wall (runs / Prefect record)", "runs/s", "/ bare Prefect", "start p50", "5xx",
          "app CPU/run", "Prefect server CPU/run", "PostgreSQL CPU/run"],
         [[f"{n} email-campaign runs ({r['nodes']} nodes, {r['durable']} Prefect task runs)", f"{r['ok']}/{n}",
           f"{r['wall']:.2f} s / {r['caught_up']:.2f} s", f"{rps:.1f}/s", ratio(rps, bare_rps),
           f"{r['p50'] * 1000:.0f} ms", ours_5xx, per_run(r["cpu"], n), per_run(r["server_cpu"], n),
           per_run(r["pg_cpu"], n)],
          [f"the same {n} runs, no Prefect (prefect_mode never)", f"{plain['ok']}/{n}", f"{plain['wall']:.2f} s",
           f"{n / plain['wall']:.1f}/s", ratio(n / plain["wall"], bare_rps), f"{plain['p50'] * 1000:.0f} ms", "-",
           per_run(plain["cpu"], n), "-", per_run(plain["pg_cpu"], n)],
          [f"{n_bare} bare Prefect flows x {r['durable']} tasks at once (baseline)", f"{bare_ok}/{n_bare}",
           f"{bare_wall:.2f} s", f"{bare_rps:.1f}/s", "1.00x", "-", bare_5xx, per_run(bare_cpu, n_bare),
           per_run(bare_server, n_bare), per_run(bare_pg, n_bare)]])
    if r["errors"]:
        print("  failures:", r["errors"], flush=True)
    return [Summary("workflow runs", f"{n} email-campaign runs at once, recorded in Prefect ({opts.backend})",
                    f"{rps:.1f} runs/s, {r['ok']}/{n} ok, {ours_5xx} 5xx",
                    f"bare Prefect {bare_rps:.1f} flows/s", ratio(rps, bare_rps),
                    ">= 15 runs/s, all succeed, no 5xx", rps >= TARGET_RPS and all_ok),
            # a burst waits in our queue (MAILY_MAX_RUNNING_RUNS) by design: the start-latency
            # target is for a run that finds room, bench/start_latency.py's email-campaign row
            Summary("workflow runs", f"start p50, {n} at once (submit -> first node; queued behind the running ones)",
                    f"{r['p50'] * 1000:.0f} ms", "-", "", "- (start_latency's campaign row)", None)]


if __name__ == "__main__":
    main(bench, __doc__ or "")
