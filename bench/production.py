"""Production mode: start latency, throughput with 1, 2 and 4 workers, 1,000 runs waiting at once.

    .venv/bin/python -m bench.production [--quick] [--prefect-postgres]   (needs PostgreSQL and Redis; about 2 min)

`--prefect-postgres`: the embedded Prefect server runs on a fresh PostgreSQL database
(`prefect_bench_<random>`, dropped after), as a production Prefect server does.

A fresh PostgreSQL database, Redis, the embedded Prefect server (a subprocess), `maily
worker` subprocesses and the app in this process with MAILY_MODE=production. Baseline, in
the same run: the raw Prefect round trip, a parameterless no-op task `.delay()`ed to a warm
task worker that answers through Redis (`--serve-noop` below): what Prefect's transport
costs before any of our work.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import datetime
from typing import Any, Sequence

from bench.common import Options, Summary, main, make_tenant, ms, prefect_api_url, ratio, show, stats

NOOP_LIST = "maily:bench:noop"


async def _noop() -> None:
    import redis.asyncio as redis
    from prefect.runtime import task_run

    r = redis.from_url(os.environ["MAILY_REDIS_URL"])
    await r.rpush(NOOP_LIST, f"{str(task_run.name).rsplit(':', 1)[-1]} {time.time()}")
    await r.aclose()


def noop_task() -> Any:
    # made on first use: importing Prefect before PREFECT_API_URL is set would pin it to no server
    from prefect import task

    return task(_noop, name="maily.bench.noop", cache_key_fn=lambda *_: None, log_prints=False)


def _graph(nodes: list[dict[str, Any]], edges: list[tuple[str, str]], name: str) -> dict[str, Any]:
    return {"schema_version": 1, "name": name, "nodes": [{"type_version": 1, **n} for n in nodes],
            "edges": [{"id": f"{a}->{b}", "source": a, "source_port": "output", "target": b, "target_port": "input"}
                      for a, b in edges]}


SIMPLE = _graph([{"id": "start", "type": "trigger.manual", "config": {}},
                 {"id": "hello", "type": "data.set", "config": {"values": {"greeting": "Hi {{ trigger.name }}"}}}],
                [("start", "hello")], "bench-prod-simple")


def waiting(seconds: float) -> dict[str, Any]:
    return _graph([{"id": "start", "type": "trigger.manual", "config": {}},
                   {"id": "wait", "type": "util.delay", "config": {"seconds": seconds}}],
                  [("start", "wait")], "bench-prod-wait")


async def _noop_baseline(env: dict[str, str], n: int) -> tuple[list[float], float]:
    """Round trip of a no-op Prefect task: .delay() here -> warm task worker -> Redis back."""
    import redis.asyncio as redis

    proc = subprocess.Popen([sys.executable, "-m", "bench.production", "--serve-noop"], env=env,
                            stdout=subprocess.DEVNULL, stderr=open(os.devnull, "wb"))
    r = redis.from_url(env["MAILY_REDIS_URL"])
    await r.delete(NOOP_LIST)
    noop = noop_task()
    try:
        await asyncio.sleep(6)           # import + subscribe
        lat: list[float] = []
        for i in range(n):
            t0 = time.time()
            await noop.with_options(name=f"maily.bench.noop:{i}").create_run(parameters={}, deferred=True)
            item = await r.blpop([NOOP_LIST], timeout=30)
            assert item is not None, "the no-op task worker did not answer"
            lat.append(float(item[1].split()[1]) - t0)
        t0 = time.perf_counter()
        burst = n * 2
        await asyncio.gather(*(noop.with_options(name=f"maily.bench.noop:b{i}").create_run(parameters={}, deferred=True)
                               for i in range(burst)))
        for _ in range(burst):
            assert await r.blpop([NOOP_LIST], timeout=60) is not None
        return lat, burst / (time.perf_counter() - t0)
    finally:
        proc.terminate()
        proc.wait(10)
        await r.aclose()


async def bench(opts: Options) -> list[Summary]:
    from litestar.testing import AsyncTestClient

    from backend.app import create_app
    from backend.db.session import Database
    from backend.settings import Settings
    from tests.production import cluster

    await cluster.require_services()
    api = await prefect_api_url(opts)
    db_url = await cluster.create_database()
    env = cluster.worker_env(db_url, opts.workdir, api)
    n_lat = 20 if opts.quick else 60
    n_thr = 100 if opts.quick else 300
    n_wait = 200 if opts.quick else 1000
    workers: list[cluster.Worker] = []
    out: list[Summary] = []

    def start_workers(k: int, limit: int = 100) -> list[cluster.Worker]:
        new = [cluster.Worker(env, opts.workdir / f"w{len(workers) + i}.log", limit=limit) for i in range(k)]
        workers.extend(new)
        for w in new:
            w.wait_ready()
        return new

    def stop_all() -> None:
        for w in workers:
            w.stop()
        workers.clear()

    db = Database(db_url)
    try:
        tenant = await make_tenant(db, "bench")
        h = tenant.headers
        settings = Settings(database_url=db_url, data_dir=opts.workdir, secret_key="bench", mode="production",
                            redis_url=cluster.REDIS_URL, prefect="never", prefect_at_start=False,
                            scheduler_enabled=False, tenant_max_concurrent_runs=100_000)
        os.environ["PREFECT_API_URL"] = api
        base_lat, base_thr = await _noop_baseline(env, n_lat)

        async with AsyncTestClient(app=create_app(settings)) as client:
            async def post(doc: dict[str, Any]) -> str:
                r = await client.post("/api/runs", json={"graph": doc, "input": {"name": "x"}}, headers=h)
                assert r.status_code == 202, r.text
                return r.json()["id"]

            async def first_node_started(run_id: str) -> datetime:
                # the app's EventBus lives on the test client's own loop: read the recorded event
                from sqlalchemy import select

                from backend.db.models import RunEvent
                while True:
                    async with db.sessionmaker() as s:
                        at = await s.scalar(select(RunEvent.at).where(RunEvent.run_id == run_id,
                                                                      RunEvent.kind == "node.started").limit(1))
                    if at is not None:
                        return at
                    await asyncio.sleep(0.01)

            async def count(status: str, ids: list[str]) -> int:
                from sqlalchemy import func, select

                from backend.db.models import Run
                async with db.sessionmaker() as s:
                    return int(await s.scalar(select(func.count()).select_from(Run)
                                              .where(Run.id.in_(ids), Run.status == status)) or 0)

            # -- start latency: submit -> first node.started (the worker's clock, same machine)
            start_workers(1)
            await post(SIMPLE)                                   # warm-up
            lat = []
            for _ in range(n_lat):
                t0 = time.time()
                run_id = await post(SIMPLE)
                at = await asyncio.wait_for(first_node_started(run_id), 30)
                lat.append(at.timestamp() - t0)
            s, b = stats(lat), stats(base_lat)
            show("Production start latency (POST /api/runs -> first node.started on a worker)",
                 ["path", "runs", "p50", "p95", "max"],
                 [["maily: app -> Prefect task run -> worker", s.n, ms(s.p50), ms(s.p95), ms(s.max)],
                  ["baseline: raw Prefect deferred task run (.delay) -> task worker -> Redis", b.n, ms(b.p50), ms(b.p95), ms(b.max)]])
            out.append(Summary("production", "start latency p50", ms(s.p50), ms(b.p50), ratio(s.p50, b.p50), "-", None))
            out.append(Summary("production", "start latency p95", ms(s.p95), ms(b.p95), ratio(s.p95, b.p95),
                               "< 500 ms", s.p95 < 0.5))

            # -- throughput with 1, 2, 4 workers
            rows = []
            for k in (1, 2, 4):
                stop_all()
                start_workers(k)
                t0 = time.perf_counter()
                ids = await asyncio.gather(*(post(SIMPLE) for _ in range(n_thr)))
                while await count("succeeded", ids) < n_thr:
                    await asyncio.sleep(0.1)
                rate = n_thr / (time.perf_counter() - t0)
                rows.append([k, n_thr, f"{rate:.0f} runs/s", ratio(rate, base_thr)])
                out.append(Summary("production", f"throughput, {k} worker(s)", f"{rate:.0f} runs/s",
                                   f"{base_thr:.0f} no-op tasks/s", ratio(rate, base_thr), "-", None))
            show(f"Production throughput ({n_thr} two-node runs submitted at once; baseline: "
                 f"{base_thr:.0f} raw no-op task runs/s, 1 task worker)",
                 ["workers", "runs", "throughput", "vs baseline"], rows)

            # -- n_wait runs waiting at once on a delay, on one worker
            stop_all()
            (w,) = start_workers(1, limit=n_wait + 50)
            idle = w.rss_mb()
            t0 = time.perf_counter()
            ids = await asyncio.gather(*(post(waiting(20)) for _ in range(n_wait)))
            while await count("running", ids) < n_wait:
                await asyncio.sleep(0.2)
                if time.perf_counter() - t0 > 60:
                    break
            all_waiting = time.perf_counter() - t0
            running = await count("running", ids)
            busy = w.rss_mb()
            while await count("succeeded", ids) < n_wait and time.perf_counter() - t0 < 120:
                await asyncio.sleep(0.5)
            done = time.perf_counter() - t0
            succeeded = await count("succeeded", ids)
            per_run_kb = (busy - idle) * 1024 / max(running, 1)
            show(f"{n_wait} runs waiting at once on a 20 s util.delay, one worker",
                 ["runs waiting", "all waiting after", "worker RSS idle", "worker RSS waiting", "per run",
                  "all succeeded after"],
                 [[f"{running}/{n_wait}", f"{all_waiting:.1f} s", f"{idle:.0f} MiB", f"{busy:.0f} MiB",
                   f"{per_run_kb:.0f} KiB", f"{done:.1f} s ({succeeded} succeeded)"]])
            out.append(Summary("production", f"{n_wait} runs waiting, worker memory", f"{busy:.0f} MiB",
                               f"{idle:.0f} MiB idle", ratio(busy, idle), "-", succeeded == n_wait))
    finally:
        stop_all()
        await db.dispose()
        await cluster.drop_database(db_url)
    return out


def serve_noop() -> None:
    from prefect.task_worker import serve

    from bench.production import noop_task   # not __main__'s copy: the task key must match
    serve(noop_task(), limit=100)


async def _prefect_database(drop: str | None = None) -> str:
    """Create (or, given its URL, drop) a PostgreSQL database for the Prefect server."""
    import secrets

    import asyncpg
    from sqlalchemy.engine import make_url

    from tests.production import cluster

    admin = make_url(cluster.PG_URL)
    conn = await asyncpg.connect(host=admin.host, port=admin.port, user=admin.username, password=admin.password,
                                 database=admin.database, timeout=10)
    try:
        if drop is not None:
            await conn.execute(f'DROP DATABASE IF EXISTS "{make_url(drop).database}" WITH (FORCE)')
            return drop
        name = f"prefect_bench_{secrets.token_hex(4)}"
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return admin.set(database=name).render_as_string(hide_password=False)


def main_with_prefect_database(bench_fn: Any, doc: str, argv: Sequence[str]) -> None:
    """Run a bench; with `--prefect-postgres` in argv, its Prefect server on a fresh PostgreSQL
    database, dropped after."""
    if "--prefect-postgres" not in argv:
        main(bench_fn, doc, list(argv))
        return
    # read by flows.prefect_server.configure_environment (an operator's PREFECT_* wins) before
    # Prefect is imported, and handed to the server subprocess
    url = asyncio.run(_prefect_database())
    os.environ["PREFECT_API_DATABASE_CONNECTION_URL"] = url
    print(f"  (Prefect server on PostgreSQL: {url.rsplit('/', 1)[-1]})", flush=True)
    try:
        main(bench_fn, doc, [a for a in argv if a != "--prefect-postgres"])
    finally:
        asyncio.run(_prefect_database(drop=url))


if __name__ == "__main__":
    if "--serve-noop" in sys.argv:
        serve_noop()
    else:
        main_with_prefect_database(bench, __doc__ or "", sys.argv[1:])
