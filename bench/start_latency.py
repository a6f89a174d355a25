"""Start latency: from `POST /api/runs` to the first node running.

The app (create_app, embedded mode, prefect_mode "auto": a trigger -> data.set graph has no
durable node, so it runs on the in-process engine) is served by a real uvicorn server on a
loopback port in this event loop; an httpx client POSTs the graph. Latency = the
`node.started` event's timestamp `at` minus the wall clock just before the POST. The bench
waits for each run's end on the app's event bus (no HTTP polling that would compete with
the run) and checks the recorded events through `GET /api/runs/{id}/events` for a sample.

Baselines measured in the same run: a bare `GET /api/health` round trip (same server and
client; it pings the database), and `asyncio.create_task` of an async function (creation to
its first line). Target: p50 under 100 ms, for the trivial graph and for the workflows users
build: the email-campaign template (offline AI, compose, verify, send to the outbox; its durable
nodes make it a Prefect flow run, recorded beside the run), started one at a time.

    .venv/bin/python -m bench.start_latency [--quick] [--postgres]
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

from bench.common import Options, Summary, database, free_port, main, make_tenant, ms, now, ratio, show, stats, us

TARGET_S = 0.100

GRAPH = {"schema_version": 1, "name": "start-latency",
         "nodes": [{"id": "start", "type": "trigger.manual", "type_version": 1, "config": {}},
                   {"id": "hello", "type": "data.set", "type_version": 1,
                    "config": {"values": {"greeting": "Hello {{ trigger.name }}"}}}],
         "edges": [{"id": "e1", "source": "start", "source_port": "output", "target": "hello",
                    "target_port": "input"}]}



def _campaign() -> dict[str, Any]:
    """The email-campaign gallery template with its defaults; its wait for send_at left out."""
    from nodes.registry import default_registry
    from templates.format import instantiate
    from templates.gallery import builtin_templates

    graph, _ = instantiate(builtin_templates(default_registry())["email-campaign"], {})
    for node in graph["nodes"]:
        if node["id"] == "wait":
            node["config"] = {"seconds": 0}
    return graph


def _campaign_input() -> dict[str, Any]:
    from nodes.registry import default_registry
    from templates.gallery import builtin_templates

    return builtin_templates(default_registry())["email-campaign"].sample_input


async def bench(opts: Options) -> list[Summary]:
    import httpx
    import uvicorn

    from backend.app import create_app
    from backend.db.session import Database
    from backend.settings import Settings

    n = 50 if opts.quick else 200
    n_campaign = 20 if opts.quick else 50
    warm = 10
    print(f"\n[start_latency] {n} runs through POST /api/runs on uvicorn (loopback), {opts.backend}", flush=True)
    async with database(opts, "start-latency") as url:
        db = Database(url)
        tenant = await make_tenant(db, "latency")
        await db.dispose()
        settings = Settings(database_url=url, data_dir=opts.workdir / "latency-data", secret_key="bench-secret",
                            mode="embedded", prefect="auto", prefect_at_start=False)
        app = create_app(settings)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                               lifespan="on", access_log=False))
        serve = asyncio.create_task(server.serve())
        while not server.started:
            if serve.done():
                serve.result()
            await asyncio.sleep(0.02)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=tenant.headers,
                                         timeout=30) as client:
                bus = app.state.bus

                async def one_run(body: dict[str, Any]) -> tuple[float, float, str, float]:
                    t_wall = time.time()
                    t0 = now()
                    r = await client.post("/api/runs", json=body)
                    t_resp = now() - t0
                    assert r.status_code == 202, r.text
                    run_id = r.json()["id"]
                    first = None
                    last = None
                    async for ev in bus.subscribe(run_id):
                        if ev.kind == "node.started" and first is None:
                            first = ev
                        last = ev
                    assert last is not None and last.kind == "run.succeeded", last
                    assert first is not None
                    return first.at.timestamp() - t_wall, t_resp, run_id, first.at.timestamp()

                body = {"graph": GRAPH, "input": {"name": "Ada"}}
                for _ in range(warm):
                    await one_run(body)
                starts, posts, ids, ats = [], [], [], []
                for _ in range(n):
                    lat, resp, run_id, at_ts = await one_run(body)
                    starts.append(lat)
                    posts.append(resp)
                    ids.append(run_id)
                    ats.append(at_ts)

                campaign_body = {"graph": _campaign(), "input": _campaign_input()}
                for _ in range(3):   # the first boots the embedded Prefect server
                    await one_run(campaign_body)
                campaign = [(await one_run(campaign_body))[0] for _ in range(n_campaign)]

                # the same figure from what the API recorded, for a sample of runs
                await app.state.recorder.flush()
                checked = 0
                for run_id, lat in list(zip(ids, ats))[:: max(1, n // 10)]:
                    r = await client.get(f"/api/runs/{run_id}/events")
                    assert r.status_code == 200, r.text
                    started = next(e for e in r.json() if e["kind"] == "node.started")
                    at = datetime.fromisoformat(started["at"].replace("Z", "+00:00"))
                    # the database holds the very timestamp the bus carried
                    assert abs(at.timestamp() - lat) < 1e-3, (run_id, at, lat)
                    checked += 1

                healths = []
                for _ in range(warm):
                    await client.get("/api/health")
                for _ in range(n):
                    t0 = now()
                    r = await client.get("/api/health")
                    healths.append(now() - t0)
                    assert r.status_code == 200
        finally:
            server.should_exit = True
            await serve

    # asyncio.create_task of an async function: creation to its first line running
    tasks = []

    async def noop(t0: float) -> None:
        tasks.append(now() - t0)

    for _ in range(n * 5):
        await asyncio.create_task(noop(now()))
    tasks = tasks[warm:]

    s_start, s_post, s_health, s_task = stats(starts), stats(posts), stats(healths), stats(tasks)
    s_campaign = stats(campaign)
    rows = [
        ["POST /api/runs -> first node.started", n, ms(s_start.p50), ms(s_start.p95), ms(s_start.mean),
         ratio(s_start.p50, s_health.p50), ratio(s_start.p50, s_task.p50)],
        ["the same, email-campaign runs (Prefect flow runs)", n_campaign, ms(s_campaign.p50), ms(s_campaign.p95),
         ms(s_campaign.mean), ratio(s_campaign.p50, s_health.p50), ratio(s_campaign.p50, s_task.p50)],
        ["POST /api/runs -> 202 response", n, ms(s_post.p50), ms(s_post.p95), ms(s_post.mean),
         ratio(s_post.p50, s_health.p50), ratio(s_post.p50, s_task.p50)],
        ["GET /api/health round trip (baseline)", n, ms(s_health.p50), ms(s_health.p95), ms(s_health.mean),
         "1.00x", ratio(s_health.p50, s_task.p50)],
        ["asyncio.create_task -> first line (baseline)", len(tasks), us(s_task.p50), us(s_task.p95),
         us(s_task.mean), ratio(s_task.p50, s_health.p50), "1.00x"],
    ]
    show(f"start_latency ({opts.backend}; target: p50 under {ms(TARGET_S)}; {checked} runs cross-checked "
         f"against GET /api/runs/{{id}}/events)",
         ["what", "n", "p50", "p95", "mean", "p50 / health", "p50 / create_task"], rows)
    return [
        Summary("start_latency", f"POST -> first node started, p50 / p95 ({opts.backend})",
                f"{ms(s_start.p50)} / {ms(s_start.p95)}", f"GET /api/health {ms(s_health.p50)}",
                ratio(s_start.p50, s_health.p50), f"p50 < {ms(TARGET_S)}", s_start.p50 < TARGET_S),
        Summary("start_latency", f"POST -> first node started, email-campaign runs, p50 / p95 ({opts.backend})",
                f"{ms(s_campaign.p50)} / {ms(s_campaign.p95)}", f"GET /api/health {ms(s_health.p50)}",
                ratio(s_campaign.p50, s_health.p50), f"p50 < {ms(TARGET_S)}", s_campaign.p50 < TARGET_S),
        Summary("start_latency", "asyncio.create_task -> first line, p50", us(s_task.p50), "-",
                f"start is {ratio(s_start.p50, s_task.p50)}", "-", None),
    ]


if __name__ == "__main__":
    main(bench, __doc__ or "")
