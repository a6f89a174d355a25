"""Production mode, workflow-shaped: email-campaign runs with 1 worker, then 2, against one
Prefect server of their own (a separate process), and the CPU seconds each part spends per run.

    .venv/bin/python -m bench.worker_scaling [--quick] [--prefect-postgres]   (PostgreSQL, Redis; about 3 min)

N runs of the gallery's email-campaign template (offline AI, compose, verify, send to the
built-in outbox) are posted at once to the app (this process, MAILY_MODE=production) and
executed by `maily worker` subprocesses; every run must end succeeded. The ratio 2 workers /
1 worker is measured in the same run. Around each burst the CPU time (utime + stime from
/proc/<pid>/stat) of the app, each worker, the Prefect server (with its child processes) and
the PostgreSQL backends of our and Prefect's databases is read, giving CPU seconds per run
per part: what one more core buys (runs/s per added core = 1 / CPU seconds per run) when that
part has cores of its own. Not in run_all or `make test`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import Options, Summary, main, make_tenant, prefect_api_url, ratio, show

TICK = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    """utime + stime of one process, in seconds (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def _descendants(root: int) -> list[int]:
    """root and every process below it (the Prefect server's uvicorn and services)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += parents.get(pid, [])
    return out


async def _pg_backends(names: list[str]) -> list[int]:
    """PIDs of the PostgreSQL backends connected to these databases right now."""
    import asyncpg

    from tests.production import cluster

    conn = await asyncpg.connect(cluster._dsn(cluster.PG_URL), timeout=10)
    try:
        rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = ANY($1::text[])", names)
    finally:
        await conn.close()
    return [r["pid"] for r in rows]


async def _snapshot(parts: dict[str, list[int]], pg_names: list[str]) -> dict[str, dict[int, float]]:
    snap = {part: {pid: _cpu_s(pid) for pid in pids} for part, pids in parts.items()}
    snap["PostgreSQL"] = {pid: _cpu_s(pid) for pid in await _pg_backends(pg_names)}
    return snap


def _spent(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
    """CPU seconds per part between two snapshots (a process new in `after` counts from 0;
    a PostgreSQL backend that closed in between is not counted: that part is a lower bound)."""
    return {part: sum(cpu - before.get(part, {}).get(pid, 0.0) for pid, cpu in after[part].items())
            for part in after}


def _campaign() -> tuple[dict[str, Any], dict[str, Any]]:
    from nodes.registry import default_registry
    from templates.format import instantiate
    from templates.gallery import builtin_templates

    tpl = builtin_templates(default_registry())["email-campaign"]
    graph, _ = instantiate(tpl, {})
    for node in graph["nodes"]:   # measured through the send (as bench/workflow_runs.py): the durable
        if node["id"] == "wait":  # wait for send_at would leave every run `waiting` until then
            node["config"] = {"seconds": 0}
    return graph, tpl.sample_input


async def bench(opts: Options) -> list[Summary]:
    from litestar.testing import AsyncTestClient
    from sqlalchemy import func, select
    from sqlalchemy.engine import make_url

    from backend.app import create_app
    from backend.db.models import Run
    from backend.db.session import Database
    from backend.settings import Settings
    from bench import common
    from tests.production import cluster

    n = int(os.environ.get("MAILY_BENCH_RUNS") or (60 if opts.quick else 150))
    await cluster.require_services()
    api = await prefect_api_url(opts)
    prefect_pid = common._prefect.pid
    db_url = await cluster.create_database()
    pg_names = [make_url(db_url).database]
    if os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL"):
        pg_names.append(make_url(os.environ["PREFECT_API_DATABASE_CONNECTION_URL"]).database)
    env = cluster.worker_env(db_url, opts.workdir, api)
    graph, sample = _campaign()
    workers: list[cluster.Worker] = []
    db = Database(db_url)
    print(f"\n[worker scaling] {n} email-campaign runs at once, production mode, 1 then 2 workers; "
          f"Prefect server pid {prefect_pid} at {api}; load average {os.getloadavg()[0]:.1f}", flush=True)
    rows, costs, rates = [], [], {}
    try:
        tenant = await make_tenant(db, "scale")
        settings = Settings(database_url=db_url, data_dir=opts.workdir, secret_key="bench", mode="production",
                            redis_url=cluster.REDIS_URL, prefect="never", prefect_at_start=False,
                            scheduler_enabled=False, tenant_max_concurrent_runs=100_000)
        os.environ["PREFECT_API_URL"] = api
        async with AsyncTestClient(app=create_app(settings)) as client:
            async def post() -> str:
                r = await client.post("/api/runs", json={"graph": graph, "input": sample}, headers=tenant.headers)
                assert r.status_code == 202, r.text
                return r.json()["id"]

            async def ended(ids: list[str]) -> tuple[int, int]:
                async with db.sessionmaker() as s:
                    done = await s.scalar(select(func.count()).select_from(Run)
                                          .where(Run.id.in_(ids), Run.status.in_(("succeeded", "failed", "cancelled"))))
                    ok = await s.scalar(select(func.count()).select_from(Run)
                                        .where(Run.id.in_(ids), Run.status == "succeeded"))
                return int(done or 0), int(ok or 0)

            for k in (1, 2):
                for w in workers:
                    w.stop()
                workers.clear()
                workers.extend(cluster.Worker(env, opts.workdir / f"k{k}-w{i}.log", limit=100) for i in range(k))
                for w in workers:
                    w.wait_ready()
                warm = [await post() for _ in range(2)]
                while (await ended(warm))[0] < len(warm):
                    await asyncio.sleep(0.2)
                parts = {"app": [os.getpid()], "workers": [w.pid for w in workers],
                         "Prefect server": _descendants(prefect_pid)}
                load0 = os.getloadavg()[0]
                before = await _snapshot(parts, pg_names)
                t0 = time.perf_counter()
                ids = list(await asyncio.gather(*(post() for _ in range(n))))
                while (done := await ended(ids))[0] < n:
                    await asyncio.sleep(0.2)
                wall = time.perf_counter() - t0
                after = await _snapshot(parts, pg_names)
                spent = _spent(before, after)
                rates[k] = n / wall
                rows.append([k, f"{done[1]}/{n}", f"{wall:.1f} s", f"{rates[k]:.2f}/s", ratio(rates[k], rates[1]),
                             f"{load0:.1f} -> {os.getloadavg()[0]:.1f}"])
                costs.append([k] + [f"{spent[p] / n * 1000:.0f} ms" for p in ("app", "workers", "Prefect server", "PostgreSQL")]
                             + [f"{sum(spent.values()) / n * 1000:.0f} ms", f"{sum(spent.values()) / wall:.2f}"])
                if done[1] < n:
                    print(f"  {n - done[1]} runs did not succeed with {k} worker(s)", flush=True)
    finally:
        for w in workers:
            w.stop()
        await db.dispose()
        await cluster.drop_database(db_url)
    show(f"Worker scaling: {n} email-campaign runs posted at once (production mode, one Prefect server)",
         ["workers", "succeeded", "wall", "runs/s", "/ 1 worker", "load average (1 min) before -> after"], rows)
    show("CPU seconds per run (utime + stime; PostgreSQL: backends of our and Prefect's databases, a lower bound)",
         ["workers", "app", "workers", "Prefect server", "PostgreSQL", "total", "cores busy"], costs)
    return [Summary("worker scaling", f"{n} email-campaign runs, {k} worker(s)", f"{rates[k]:.2f} runs/s",
                    f"1 worker {rates[1]:.2f} runs/s", ratio(rates[k], rates[1]), "-", None) for k in sorted(rates)]


if __name__ == "__main__":
    from bench.production import main_with_prefect_database

    main_with_prefect_database(bench, __doc__ or "", sys.argv[1:])
