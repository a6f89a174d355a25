"""Durable runs share one Prefect client pair, their Prefect records never overload the
Prefect server (a bounded number of calls in flight), and a busy server (503) is waited out
by the record: never a failed run, never a bug."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx
import pytest

from flows.compile import compile_graph
from flows.runner import RunManager
from tests.flows import fakes
from tests.flows.fakes import edge, graph, node
from tests.flows.test_engine import Collect
from tests.live_server import serving

REGISTRY = fakes.registry()
DURABLE = graph([node("start", "trigger.manual"), node("a", "data.set", values={"x": 1}),
                 node("d", "util.delay", seconds=0), node("b", "data.set", values={"y": 2})],
                [edge("start", "a"), edge("a", "d"), edge("d", "b")], name="burst")


class _Count5xx(logging.Handler):
    """Every HTTP response the process logs (httpx logs each at INFO), counted when 5xx."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seen = 0
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("HTTP Request:"):
            self.seen += 1
            if '" 5' in message:
                self.errors.append(message)


@pytest.fixture
def http_log():
    handler, logger = _Count5xx(), logging.getLogger("httpx")
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


async def test_a_burst_of_durable_runs_all_succeed_without_a_5xx(prefect_api, http_log):
    """60 durable runs submitted at once all succeed and the Prefect server answers no 5xx."""
    sink = Collect()
    manager = RunManager(sinks=[sink], prefect=prefect_api, prefect_mode="always", prefect_max_flow_runs=8)
    plan = compile_graph(DURABLE, REGISTRY)
    outcomes = await asyncio.gather(*[manager.submit(plan, f"burst-{i}", {}) for i in range(60)])
    await asyncio.wait_for(manager.prefect_record.caught_up(), 120)
    await manager._prefect_clients.close()
    assert [o.status for o in outcomes] == ["succeeded"] * 60, [o.error for o in outcomes if o.error]
    assert http_log.seen >= 60 and http_log.errors == []     # a create per run at least (an ended run's is its end too)


async def test_flow_runs_reuse_the_shared_clients(prefect_api, monkeypatch):
    """After the first run's record, further records build no Prefect client (and so no TLS context)."""
    from prefect.client.orchestration import PrefectClient, SyncPrefectClient

    manager = RunManager(sinks=[], prefect=prefect_api, prefect_mode="always")
    plan = compile_graph(DURABLE, REGISTRY)
    assert (await manager.submit(plan, "share-0", {})).status == "succeeded"
    await asyncio.wait_for(manager.prefect_record.caught_up(), 60)
    calls = manager.prefect_record.calls
    built: list[str] = []
    for cls in (PrefectClient, SyncPrefectClient):
        init = cls.__init__

        def counting(self: Any, *a: Any, _init: Any = init, **kw: Any) -> None:
            built.append(type(self).__name__)
            _init(self, *a, **kw)

        monkeypatch.setattr(cls, "__init__", counting)
    outcomes = await asyncio.gather(*[manager.submit(plan, f"share-{i}", {}) for i in range(1, 6)])
    await asyncio.wait_for(manager.prefect_record.caught_up(), 60)
    await manager._prefect_clients.close()
    assert [o.status for o in outcomes] == ["succeeded"] * 5
    assert manager.prefect_record.calls >= calls + 10 and built == []     # 5 records written, no client built


async def test_runs_start_at_once_and_their_records_keep_within_the_call_limit(prefect_api):
    """With two Prefect calls allowed, 30 runs all start and end without waiting for Prefect; the
    proxy in front of it never sees more than two calls at once, and every record catches up."""
    upstream = await prefect_api.ready()
    proxy = _Flaky503(upstream, "COMPLETED", fail=0)
    fakes.GATES["slots"] = gate = asyncio.Event()
    plan = compile_graph(graph([node("start", "trigger.manual"), node("w", "test.gate", key="slots")],
                               [edge("start", "w")], name="gated"), REGISTRY)
    async with serving(proxy) as host:
        manager = RunManager(sinks=[], prefect=_Via(f"http://{host}/api"), prefect_mode="always",  # type: ignore[arg-type]
                             prefect_max_flow_runs=2)
        runs = [manager.submit(plan, f"slot-{i}", {}, tenant_id="t") for i in range(30)]
        while len(manager.queue_of("t")[0]) < 30:          # all running, none queued behind Prefect
            await asyncio.sleep(0.02)
        assert manager.queue_of("t")[1] == [] and manager.prefect_record.backlog > 0
        gate.set()
        assert [(await r).status for r in runs] == ["succeeded"] * 30
        await asyncio.wait_for(manager.prefect_record.caught_up(), 120)
        await manager._prefect_clients.close()
    await proxy.client.aclose()
    assert manager.prefect_record.backlog == 0 and 1 <= proxy.most_in_flight <= 2


class _Via:   # the Prefect server, reached through a proxy
    def __init__(self, url: str) -> None:
        self.url = url

    async def ready(self) -> str:
        return self.url

    def report_failure(self) -> None:
        pass


class _Flaky503:
    """A loopback proxy in front of the Prefect server answering 503 (Retry-After: 0) to the
    first `fail` flow-run creates or state changes to `state_type`; everything else is passed
    through, and the most calls it had in flight at once noted."""

    def __init__(self, upstream: str, state_type: str, fail: int) -> None:
        self.upstream, self.state_type, self.left, self.sent = upstream.rstrip("/"), state_type, fail, 0
        self.client = httpx.AsyncClient(timeout=30)
        self.in_flight = self.most_in_flight = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        path = scope["path"]
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await self._answer(scope, send, path, body)
        finally:
            self.in_flight -= 1

    async def _answer(self, scope: dict[str, Any], send: Any, path: str, body: bytes) -> None:
        state = (json.loads(body or b"{}") or {}).get("state") if path.startswith("/api/flow_runs/") else None
        if self.left > 0 and isinstance(state, dict) and state.get("type") == self.state_type \
                and (path.endswith("/set_state") or path == "/api/flow_runs/"):
            self.left -= 1
            self.sent += 1
            await send({"type": "http.response.start", "status": 503,
                        "headers": [(b"content-type", b"application/json"), (b"retry-after", b"0")]})
            await send({"type": "http.response.body", "body": b'{"exception_message": "Service Unavailable"}'})
            return
        qs = scope["query_string"].decode()
        headers = [(k.decode(), v.decode()) for k, v in scope["headers"] if k.lower() not in (b"host", b"content-length")]
        resp = await self.client.request(scope["method"], self.upstream + path.removeprefix("/api")
                                         + (f"?{qs}" if qs else ""), content=body, headers=headers)
        await send({"type": "http.response.start", "status": resp.status_code,
                    "headers": [(k.encode(), v.encode()) for k, v in resp.headers.items()
                                if k.lower() not in ("content-length", "transfer-encoding", "content-encoding")]})
        await send({"type": "http.response.body", "body": resp.content})


@pytest.mark.parametrize("state_type", ["RUNNING", "COMPLETED"])
async def test_a_busy_prefect_server_is_waited_out_by_the_record(prefect_api, state_type):
    """Prefect answering 503 past its client's own retries, as a flow run is created (Running)
    or ended, delays only the record: the run succeeds, no error of kind `bug` is recorded,
    and the flow run ends completed once the server answers again. (The run waits at a gate
    until its flow run exists, so that it is created Running and ended by a set_state.)"""
    from tests.flows.test_prefect_flow import _flow_run

    upstream = await prefect_api.ready()
    proxy = _Flaky503(upstream, state_type, fail=7)   # Prefect's client gives up after 6 tries
    flow_runs: dict[str, str] = {}
    fakes.GATES[f"busy-{state_type}"] = gate = asyncio.Event()

    async def noted(run_id: str, flow_run_id: str) -> None:
        flow_runs[run_id] = flow_run_id
        gate.set()

    plan = compile_graph(graph([node("start", "trigger.manual"), node("w", "test.gate", key=f"busy-{state_type}")],
                               [edge("start", "w")], name="busy"), REGISTRY)
    async with serving(proxy) as host:
        sink = Collect()
        manager = RunManager(sinks=[sink], prefect=_Via(f"http://{host}/api"), prefect_mode="always",  # type: ignore[arg-type]
                             on_prefect_flow_run=noted)
        outcome = await manager.submit(plan, f"busy-{state_type}", {})
        await asyncio.wait_for(manager.prefect_record.caught_up(), 120)
        await manager._prefect_clients.close()
    await proxy.client.aclose()
    assert proxy.sent >= 6     # Prefect's own client retries were exhausted at least once
    assert outcome.status == "succeeded", outcome.error
    assert not any((e.data.get("error") or {}).get("kind") == "bug" for e in sink.events)
    flow_run, _ = await _flow_run(upstream, flow_runs[f"busy-{state_type}"], tasks_too=False)
    assert flow_run.state.is_completed()


async def test_the_embedded_server_keeps_a_bursts_database_connections_open(prefect_api):
    """Bursts of 8 Prefect calls in flight: no PostgreSQL connection the server used is closed
    after its call (Prefect's default pool of 5 closed its overflow on return, so under load
    every call forked a new backend); the pool may grow, it does not churn."""
    import asyncpg

    from flows.prefect_clients import SharedPrefectClients
    from flows.prefect_record import PrefectRecorder

    from sqlalchemy.engine import make_url

    await prefect_api.ready()
    url = make_url(prefect_api.database_url).set(drivername="postgresql")
    database = url.database
    watcher = await asyncpg.connect(url.set(database="postgres").render_as_string(hide_password=False))
    assert database in {r["datname"] for r in await watcher.fetch("SELECT datname FROM pg_database")}
    recorder = PrefectRecorder(prefect_api, SharedPrefectClients(), max_calls=8)
    flow_id = await recorder.flow_id("pooled")

    async def backends() -> set[int]:
        return {r["pid"] for r in await watcher.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", database)}

    async def burst() -> set[int]:
        """The backends serving Prefect's database while 48 flow-run reads run, 8 at a time."""
        done = asyncio.Event()

        async def watch() -> set[int]:
            pids: set[int] = set()
            while not done.is_set():
                pids |= await backends()
                await asyncio.sleep(0.01)
            return pids

        watching = asyncio.create_task(watch())
        await asyncio.gather(*[recorder.call("POST", "/flow_runs/filter", {
            "flows": {"id": {"any_": [flow_id]}}, "limit": 5}) for _ in range(48)])
        done.set()
        return await watching

    try:
        used = set()
        for _ in range(3):
            used |= await burst()
        await asyncio.sleep(0.5)
        alive = await backends()
    finally:
        await watcher.close()
        await recorder.clients.close()
    assert len(used) >= 6                  # the bursts did use more connections than Prefect's default 5 keep
    # the default pool closes most of them (14 of 19 in a trial); a stray closure (a peak beyond
    # the pool from another test's leftover record on this shared server) is not churn
    assert len(used - alive) <= len(used) // 4, f"closed after use: {sorted(used - alive)} of {len(used)}"
