"""Prometheus /metrics: a run moves the run counters and node histograms, the AI ledger and
the mailer feed theirs, WebSocket connections are gauged, and MAILY_METRICS_TOKEN guards it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families

from backend.app import create_app
from backend.metrics import observe_ai_usage
from backend.settings import Settings
from nodes.email.mailer import Mailer, MemoryMailStore
from nodes.email.mime import Outgoing
from tests.backend.conftest import assert_problem
from tests.flows.fakes import edge, graph, node

FAILING = graph([node("start", "trigger.manual"), node("bad", "data.set", values={"x": "{{ nodes.start.output.a.b }}"})],
                [edge("start", "bad")], name="metrics-fail")
OK = graph([node("start", "trigger.manual"), node("hello", "data.set", values={"greeting": "Hi {{ trigger.name }}"})],
           [edge("start", "hello")], name="metrics-ok")


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    return Settings(database_url=db_url, data_dir=tmp_path, secret_key="test-secret-key", prefect="never",
                    prefect_at_start=False, metrics_public=True)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(snapshot: dict, name: str, **labels: str) -> float:
    return snapshot.get((name, frozenset(labels.items())), 0.0)


async def scrape(client, headers: dict[str, str] | None = None) -> dict:
    r = await client.get("/metrics", headers=headers or {})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return samples(r.text)


async def wait_for_end(client, headers, run_id: str, timeout: float = 20) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        r = await client.get(f"/api/runs/{run_id}", headers=headers)
        if r.json()["status"] in ("succeeded", "failed", "cancelled"):
            return r.json()
        await asyncio.sleep(0.05)
    raise AssertionError("the run did not end")


async def test_a_run_moves_run_counters_and_node_histograms(client, tenant_a):
    h = tenant_a.editor.headers
    before = await scrape(client)
    for doc in (OK, OK, FAILING):
        r = await client.post("/api/runs", json={"graph": doc, "input": {"name": "Ada"}}, headers=h)
        assert r.status_code == 202, r.text
        await wait_for_end(client, h, r.json()["id"])
    after = await scrape(client)

    assert value(after, "maily_runs_total", status="succeeded") - value(before, "maily_runs_total", status="succeeded") == 2
    assert value(after, "maily_runs_total", status="failed") - value(before, "maily_runs_total", status="failed") == 1
    assert value(after, "maily_runs_total", status="queued") - value(before, "maily_runs_total", status="queued") == 3
    ok_nodes = ("maily_node_duration_seconds_count", {"node_type": "data.set", "status": "succeeded"})
    failed_nodes = ("maily_node_duration_seconds_count", {"node_type": "data.set", "status": "failed"})
    assert value(after, ok_nodes[0], **ok_nodes[1]) - value(before, ok_nodes[0], **ok_nodes[1]) == 2
    assert value(after, failed_nodes[0], **failed_nodes[1]) - value(before, failed_nodes[0], **failed_nodes[1]) == 1
    trig = {"node_type": "trigger.manual", "status": "succeeded"}
    assert value(after, "maily_node_duration_seconds_count", **trig) - value(before, "maily_node_duration_seconds_count", **trig) == 3
    assert value(after, "maily_run_duration_seconds_count", status="succeeded") >= 2
    # the gauges are there, and the API requests were counted by route template
    assert ("maily_run_queue_depth", frozenset()) in after
    assert value(after, "maily_http_requests_total", method="POST", route="/api/runs", status="202") >= 3
    assert ("maily_websocket_connections", frozenset({("kind", "run_events")})) in after


async def test_the_queue_depth_gauge_reads_the_run_managers_queues(app, client, tenant_a):
    runner = app.state.runner
    queue = runner._queues["some-tenant"]
    loop = asyncio.get_running_loop()
    queue.waiting.extend([loop.create_future(), loop.create_future()])
    try:
        assert value(await scrape(client), "maily_run_queue_depth") >= 2
    finally:
        queue.waiting.clear()
    assert value(await scrape(client), "maily_run_queue_depth") == 0


async def test_ai_usage_feeds_token_and_cost_counters(db, tenant_a):
    from backend.ai.store import DbStore

    before = samples(_text())
    await DbStore(db, "test-secret").record({"tenant_id": tenant_a.id, "workflow_id": None, "run_id": "r1", "node_id": "n1",
                              "node_type": "ai.summarize", "provider": "openai", "model": "gpt-test",
                              "tokens_in": 120, "tokens_out": 30, "cost_micros": 2500, "cached": False,
                              "latency_ms": 12.0, "ok": True, "error": None})
    observe_ai_usage({"provider": "openai", "model": "gpt-test", "cached": True, "ok": True})
    after = samples(_text())
    labels = {"provider": "openai", "model": "gpt-test"}
    assert value(after, "maily_ai_tokens_total", **labels, direction="input") - \
        value(before, "maily_ai_tokens_total", **labels, direction="input") == 120
    assert value(after, "maily_ai_tokens_total", **labels, direction="output") - \
        value(before, "maily_ai_tokens_total", **labels, direction="output") == 30
    assert value(after, "maily_ai_cost_usd_total", **labels) - value(before, "maily_ai_cost_usd_total", **labels) \
        == pytest.approx(0.0025)
    assert value(after, "maily_ai_calls_total", **labels, outcome="cache_hit") - \
        value(before, "maily_ai_calls_total", **labels, outcome="cache_hit") == 1


async def test_the_mailer_reports_each_message():
    from backend.metrics import observe_email

    before = samples(_text())
    mailer = Mailer(store=MemoryMailStore(), observe=observe_email)
    msgs = [Outgoing(key=f"k{i}", sender="app@example.com", to=f"u{i}@example.com", subject="hi", text="x")
            for i in range(3)]
    results = await mailer.send_batch("t1", "run1", "send", msgs, use_outbox=True)
    again = await mailer.send_batch("t1", "run1", "send", msgs[:1], use_outbox=True)
    provider = results[0]["provider"]
    after = samples(_text())
    sent = ("maily_emails_total", {"provider": provider, "status": "sent"})
    dup = ("maily_emails_total", {"provider": provider, "status": "duplicate"})
    assert value(after, sent[0], **sent[1]) - value(before, sent[0], **sent[1]) == 3
    assert value(after, dup[0], **dup[1]) - value(before, dup[0], **dup[1]) == len(again) == 1


async def test_metrics_token_is_required_when_set(settings):
    app = create_app(Settings(**{**settings.model_dump(), "metrics_token": "s3cret-metrics"}))
    async with AsyncTestClient(app=app) as c:
        assert (await c.get("/metrics")).status_code == 401
        assert (await c.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
        assert (await c.get("/metrics", headers={"Authorization": "s3cret-metrics"})).status_code == 401
        r = await c.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics"})
        assert r.status_code == 200 and "maily_runs_total" in r.text


async def test_metrics_without_a_token_or_opt_in_is_403_saying_how_to_enable_it(settings):
    """With neither MAILY_METRICS_TOKEN nor MAILY_METRICS_PUBLIC, /metrics is a 403 problem naming both settings."""
    app = create_app(Settings(**{**settings.model_dump(), "metrics_public": False}))
    async with AsyncTestClient(app=app) as c:
        r = await c.get("/metrics")
        doc = assert_problem(r, 403)
        assert "MAILY_METRICS_TOKEN" in doc["detail"] and "MAILY_METRICS_PUBLIC" in doc["detail"]
        assert "maily_runs_total" not in r.text


def _text() -> str:
    from backend.metrics import scrape as render

    return render().decode()
