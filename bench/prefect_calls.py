"""What a run's Prefect record costs the Prefect server, by the shape the record takes.

An email-campaign run's record (flows/prefect_record.py) is written in one of two shapes:
- as it runs: the flow run created `Running`, each durable node's task run `Running` then
  `Completed` (two events), the flow run set `Completed` at the end: 2 API calls, 8 events;
- lagging (a burst, or deferred under load): the run has ended by the time its record is
  written, so the flow run is created `Completed` and each task run gets its final state
  only: 1 API call, 4 events.
N records of each shape go through the real RunRecord to the embedded Prefect server, the
shapes alternating; the server's and PostgreSQL's CPU per record is read from /proc, its idle
CPU over the same settle time subtracted. The first shape is the baseline.

    .venv/bin/python -m bench.prefect_calls [--quick]     # MAILY_BENCH_RECORDS=N (default 300)
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from bench.common import Options, Summary, main, now, prefect_api_url, ratio, show
from bench.workflow_runs import cpu_s, postgres_cpu_s

SETTLE_S = 4.0       # the server's task-run recorder and event persister flush every few seconds
IN_FLIGHT = 16       # records written at once in the as-it-runs shape (not above the recorder's load mark)


def _campaign_plan():
    from flows.compile import compile_graph
    from nodes.registry import default_registry
    from templates.format import instantiate
    from templates.gallery import builtin_templates

    registry = default_registry()
    graph, _ = instantiate(builtin_templates(registry)["email-campaign"], {})
    return compile_graph(graph, registry)


async def _until(check, timeout: float = 60.0) -> None:
    deadline = now() + timeout
    while not check():
        if now() > deadline:
            raise TimeoutError("the record did not catch up")
        await asyncio.sleep(0.002)


async def _record(recorder: Any, plan: Any, run_id: str, lagging: bool) -> None:
    """One run's events fed to its RunRecord: all at once (lagging), or in three steps each
    written before the next (the start; the durable nodes' starts; their ends and the run's)."""
    from flows.events import RunEvent

    record = recorder.follow(run_id, plan)
    durable = [nid for nid, node in plan.nodes.items() if node.durable]
    seq = iter(range(1, 100))
    steps = [[RunEvent(run_id, next(seq), "run.started")],
             [RunEvent(run_id, next(seq), "node.started", node_id=nid, attempt=1) for nid in durable],
             [RunEvent(run_id, next(seq), "node.succeeded", node_id=nid, attempt=1) for nid in durable]
             + [RunEvent(run_id, next(seq), "run.succeeded")]]
    for step in steps:
        for event in step:
            record.emit(event)
        if not lagging:
            await _until(lambda: not record._pending and record.flow_run_id is not None)


async def _shape(api: Any, plan: Any, n: int, lagging: bool, tag: str, work: Any) -> dict[str, float]:
    from flows.prefect_clients import SharedPrefectClients
    from flows.prefect_record import PrefectRecorder

    recorder = PrefectRecorder(api, SharedPrefectClients(), max_calls=16, defer_s=0)   # the shape is the bench's choice
    gate = asyncio.Semaphore(n if lagging else IN_FLIGHT)

    async def one(i: int) -> None:
        async with gate:
            await _record(recorder, plan, f"{tag}-{i}", lagging)

    await recorder.flow_id(f"maily-{plan.name}"[:100])
    server0, pg0 = cpu_s(api.pid), postgres_cpu_s(work)
    t0 = now()
    await asyncio.gather(*[one(i) for i in range(n)])
    await recorder.caught_up()
    wall = now() - t0
    await asyncio.sleep(SETTLE_S)
    server, pg = cpu_s(api.pid) - server0, postgres_cpu_s(work) - pg0
    calls = recorder.calls
    await recorder.close()
    await recorder.clients.close()
    print(f"    ({tag}: {n} records in {wall:.1f} s, server {server:.1f} s, PostgreSQL {pg:.1f} s of CPU)", flush=True)
    return {"server": server, "pg": pg, "calls": calls, "wall": wall}


async def bench(opts: Options) -> list[Summary]:
    n = int(os.environ.get("MAILY_BENCH_RECORDS", "60" if opts.quick else "300"))
    print(f"\n[prefect calls] {n} email-campaign run records per shape, written to the embedded Prefect server",
          flush=True)
    await prefect_api_url(opts)
    from bench import common

    api = common._prefect
    plan = _campaign_plan()
    await _shape(api, plan, 20, False, "warm", opts.workdir)
    idle0, idle_pg0 = cpu_s(api.pid), postgres_cpu_s(opts.workdir)
    await asyncio.sleep(SETTLE_S)
    idle, idle_pg = cpu_s(api.pid) - idle0, postgres_cpu_s(opts.workdir) - idle_pg0
    totals = {False: {"server": 0.0, "pg": 0.0, "calls": 0.0, "wall": 0.0},
              True: {"server": 0.0, "pg": 0.0, "calls": 0.0, "wall": 0.0}}
    rounds = 1 if opts.quick else 2
    for r in range(rounds):
        for lagging in (False, True):
            got = await _shape(api, plan, n, lagging, f"{'lag' if lagging else 'live'}{r}", opts.workdir)
            for key in got:
                totals[lagging][key] += got[key]
    runs = n * rounds

    def per(lagging: bool, key: str, idle_s: float = 0.0) -> float:
        return max(0.0, totals[lagging][key] - idle_s * rounds) / runs * 1000

    live_server, lag_server = per(False, "server", idle), per(True, "server", idle)
    live_pg, lag_pg = per(False, "pg", idle_pg), per(True, "pg", idle_pg)
    durable = sum(1 for node in plan.nodes.values() if node.durable)
    show(f"Prefect server cost per run record ({n} x {rounds} per shape, idle CPU subtracted)",
         ["shape", "API calls/run", "events/run", "Prefect server CPU/run", "PostgreSQL CPU/run", "/ as it runs"],
         [["as it runs: created Running, tasks Running -> Completed, set Completed (baseline)",
           f"{totals[False]['calls'] / runs:.2f}", 2 * durable, f"{live_server:.1f} ms", f"{live_pg:.1f} ms", "1.00x"],
          ["lagging: created Completed, tasks' final states only", f"{totals[True]['calls'] / runs:.2f}", durable,
           f"{lag_server:.1f} ms", f"{lag_pg:.1f} ms", ratio(lag_server + lag_pg, live_server + live_pg)]])
    return [Summary("prefect calls", "Prefect server + PostgreSQL CPU per run record, lagging shape",
                    f"{lag_server + lag_pg:.1f} ms", f"as it runs {live_server + live_pg:.1f} ms",
                    ratio(lag_server + lag_pg, live_server + live_pg), "-", None)]


if __name__ == "__main__":
    main(bench, __doc__ or "")
