"""API under load: requests/s and p50/p99 at 50 and 500 concurrent connections.

The app is served by `maily serve` (uvicorn, embedded mode) in a subprocess, as in production,
on the benchmark's database; the load comes from this process over loopback (httpx, one
connection per simulated client, each sending its requests back to back). Measured:
`GET /api/workflows` and starting a run (`POST /api/workflows/{id}/runs` of a trigger ->
data.set graph, in-process engine). Baseline in the same run: a bare Litestar handler that
answers a constant JSON document, served the same way (a subprocess, same uvicorn settings).
Any answer other than the expected status is counted: a 503 (with Retry-After) under overload
is polite, a 500 is a bug.

    .venv/bin/python -m bench.api_load [--quick] [--postgres]
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from typing import Any

from bench.common import Options, Summary, database, free_port, main, make_tenant, ms, now, percentile, ratio, show

LEVELS = (50, 500)
GRAPH = {"schema_version": 1, "name": "api-load",
         "nodes": [{"id": "start", "type": "trigger.manual", "type_version": 1, "config": {}},
                   {"id": "hello", "type": "data.set", "type_version": 1, "config": {"values": {"n": 1}}}],
         "edges": [{"id": "e1", "source": "start", "source_port": "output", "target": "hello",
                    "target_port": "input"}]}



def bare_app() -> Any:
    """The baseline: one Litestar handler answering a constant document (uvicorn factory)."""
    from litestar import Litestar, get

    @get("/bare", sync_to_thread=False)
    def bare() -> dict[str, Any]:
        return {"items": [], "limit": 50, "offset": 0}

    return Litestar(route_handlers=[bare])


async def _serve(args: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    import httpx

    async with httpx.AsyncClient(timeout=2) as c:
        for _ in range(600):
            if proc.poll() is not None:
                raise RuntimeError(f"the server {args} exited with {proc.returncode}")
            try:
                await c.get(f"http://127.0.0.1:{port}/bare" if "bench.api_load:bare_app" in args
                            else f"http://127.0.0.1:{port}/api/health")
                return proc
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server did not start within 60 s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def _load(base: str, method: str, path: str, body: Any, headers: dict[str, str], conns: int,
                total: int, expect: int) -> dict[str, Any]:
    """`total` requests from `conns` clients, each with its own connection, back to back."""
    import httpx

    latencies: list[float] = []
    statuses: Counter[int | str] = Counter()
    per_client = max(1, total // conns)
    limits = httpx.Limits(max_connections=conns, max_keepalive_connections=conns)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120, limits=limits) as client:

        async def one_client() -> None:
            for _ in range(per_client):
                t0 = now()
                try:
                    r = await client.request(method, path, json=body)
                    statuses[r.status_code] += 1
                except httpx.HTTPError as exc:
                    statuses[type(exc).__name__] += 1
                    continue
                latencies.append(now() - t0)

        t0 = now()
        await asyncio.gather(*(one_client() for _ in range(conns)))
        elapsed = now() - t0
    done = sum(statuses.values())
    return {"rps": done / elapsed, "p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
            "ok": statuses.get(expect, 0), "other": {k: v for k, v in statuses.items() if k != expect}, "n": done}


async def bench(opts: Options) -> list[Summary]:
    import httpx

    total = {50: 500, 500: 1500} if opts.quick else {50: 2000, 500: 5000}
    print(f"\n[api_load] {', '.join(f'{c} connections' for c in LEVELS)}; app in a subprocess; {opts.backend}",
          flush=True)
    rows, summary = [], []
    async with database(opts, "api-load") as url:
        from backend.db.session import Database

        db = Database(url)
        tenant = await make_tenant(db, "load")
        await db.dispose()
        env = {**os.environ, "MAILY_DATABASE_URL": url, "MAILY_DATA_DIR": str(opts.workdir / "api-load"),
               "MAILY_SECRET_KEY": "bench-secret", "MAILY_PREFECT": "auto", "MAILY_PREFECT_AT_START": "false",
               "MAILY_LOG_LEVEL": "WARNING", "MAILY_TENANT_MAX_CONCURRENT_RUNS": "1000",
               "MAILY_MAX_RUNNING_RUNS": "1000"}
        app_port, bare_port = free_port(), free_port()
        app_proc = await _serve(["backend.cli", "serve", "--port", str(app_port)], env, app_port)
        bare_proc = await _serve(["uvicorn", "--factory", "bench.api_load:bare_app", "--port", str(bare_port),
                                  "--log-level", "warning", "--no-access-log"], env, bare_port)
        try:
            app_base, bare_base = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{bare_port}"
            async with httpx.AsyncClient(base_url=app_base, headers=tenant.headers, timeout=30) as c:
                r = await c.post("/api/workflows", json={"name": "load", "graph": GRAPH})
                assert r.status_code == 201, r.text
                wf = r.json()["id"]
            cases = [("bare Litestar handler (baseline)", bare_base, "GET", "/bare", None, 200),
                     ("GET /api/workflows", app_base, "GET", "/api/workflows", None, 200),
                     ("start a run", app_base, "POST", f"/api/workflows/{wf}/runs", {"input": {}}, 202)]
            for conns in LEVELS:
                measured = {}
                for label, base, method, path, body, expect in cases:
                    await _load(base, method, path, body, tenant.headers, min(conns, 20), 100, expect)   # warm
                    m = await _load(base, method, path, body, tenant.headers, conns, total[conns], expect)
                    measured[label] = m
                    rows.append([label, conns, m["n"], f"{m['rps']:.0f}", ms(m["p50"]), ms(m["p99"]),
                                 ratio(measured[cases[0][0]]["rps"], m["rps"]),
                                 ", ".join(f"{k}: {v}" for k, v in m["other"].items()) or "-"])
                for label in ("GET /api/workflows", "start a run"):
                    m, base_m = measured[label], measured[cases[0][0]]
                    server_errors = sum(v for k, v in m["other"].items() if isinstance(k, int) and k >= 500 and k != 503)
                    summary.append(Summary("api_load", f"{label} at {conns} connections, req/s (p99)",
                                           f"{m['rps']:.0f} ({ms(m['p99'])})", f"{base_m['rps']:.0f} bare",
                                           ratio(base_m["rps"], m["rps"]), "no 5xx but 503", server_errors == 0))
        finally:
            _stop(app_proc)
            _stop(bare_proc)
    show("API under load (requests back to back per connection)",
         ["request", "connections", "requests", "req/s", "p50", "p99", "bare/this req/s", "other answers"], rows)
    return summary


if __name__ == "__main__":
    main(bench, __doc__ or "")
