"""OpenTelemetry: a request, the run it starts and the run's nodes share one trace, with
tenant, run and node attributes; AI provider calls are children of their node's span; log
records carry the same ids."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from types import SimpleNamespace

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from backend.logs import ContextIdsFilter, JsonFormatter
from backend.settings import Settings
from flows.observe import traced_node, traced_run, tracer
from tests.flows.fakes import edge, graph, node

OK = graph([node("start", "trigger.manual"), node("hello", "data.set", values={"greeting": "Hi {{ trigger.name }}"})],
           [edge("start", "hello")], name="traced")


@pytest.fixture(scope="module")
def spans() -> InMemorySpanExporter:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        trace.set_tracer_provider(TracerProvider())
        provider = trace.get_tracer_provider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))  # type: ignore[attr-defined]
    return exporter


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    return Settings(database_url=db_url, data_dir=tmp_path, secret_key="test-secret-key", prefect="never",
                    prefect_at_start=False)


async def _run_span_ended(spans, run_id: str) -> tuple:
    """The finished spans once the run's own span has ended (it ends just after the run's status is stored)."""
    for _ in range(200):
        done = spans.get_finished_spans()
        if any(s.name == "maily.run" and s.attributes["maily.run_id"] == run_id for s in done):
            return done
        await asyncio.sleep(0.01)
    raise AssertionError(f"the span of run {run_id} never ended")


async def test_request_run_and_nodes_share_one_trace(spans, client, tenant_a):
    spans.clear()
    h = tenant_a.editor.headers
    r = await client.post("/api/runs", json={"graph": OK, "input": {"name": "Ada"}}, headers=h)
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]
    for _ in range(200):
        if (await client.get(f"/api/runs/{run_id}", headers=h)).json()["status"] == "succeeded":
            break
        await asyncio.sleep(0.05)
    done = await _run_span_ended(spans, run_id)
    request = next(s for s in done if s.name == "POST /api/runs")
    run = next(s for s in done if s.name == "maily.run" and s.attributes["maily.run_id"] == run_id)
    nodes = [s for s in done if s.name.startswith("maily.node") and s.attributes["maily.run_id"] == run_id]

    assert request.kind == trace.SpanKind.SERVER
    assert request.attributes["http.response.status_code"] == 202
    assert request.attributes["maily.tenant_id"] == tenant_a.id
    trace_id = request.context.trace_id
    assert run.context.trace_id == trace_id and run.parent.span_id == request.context.span_id
    assert run.attributes["maily.tenant_id"] == tenant_a.id and run.attributes["maily.status"] == "succeeded"
    assert {s.attributes["maily.node_id"] for s in nodes} == {"start", "hello"}
    for s in nodes:
        assert s.context.trace_id == trace_id and s.parent.span_id == run.context.span_id
        assert s.attributes["maily.tenant_id"] == tenant_a.id and s.attributes["maily.status"] == "succeeded"
    assert {s.attributes["maily.node_type"] for s in nodes} == {"trigger.manual", "data.set"}


async def test_a_failing_node_marks_its_span_and_the_run_span(spans, client, tenant_a):
    spans.clear()
    bad = graph([node("start", "trigger.manual"), node("bad", "data.set", values={"x": "{{ nodes.start.output.a.b }}"})],
                [edge("start", "bad")])
    r = await client.post("/api/runs", json={"graph": bad}, headers=tenant_a.editor.headers)
    run_id = r.json()["id"]
    for _ in range(200):
        if (await client.get(f"/api/runs/{run_id}", headers=tenant_a.editor.headers)).json()["status"] == "failed":
            break
        await asyncio.sleep(0.05)
    done = await _run_span_ended(spans, run_id)
    failed = next(s for s in done if s.name == "maily.node data.set" and s.attributes["maily.run_id"] == run_id)
    run = next(s for s in done if s.name == "maily.run" and s.attributes["maily.run_id"] == run_id)
    assert failed.status.status_code == trace.StatusCode.ERROR and failed.attributes["maily.error_kind"] == "config"
    assert run.status.status_code == trace.StatusCode.ERROR and run.attributes["maily.status"] == "failed"


async def test_an_ai_provider_call_is_a_child_span_of_its_node(spans):
    from nodes.ai.gateway import _traced_complete
    from nodes.ai.providers.base import ChatRequest, ChatResult

    class Fake:
        name, key = "openai", "openai:"

        async def complete(self, request, budget):
            return ChatResult(text="hi", model=request.model, tokens_in=12, tokens_out=3)

    spans.clear()
    with tracer().start_as_current_span("maily.node ai.summarize") as node_span:
        await _traced_complete(Fake(), ChatRequest(model="gpt-test", system="", prompt="x", max_tokens=10), 1.0)
    call = next(s for s in spans.get_finished_spans() if s.name == "ai.chat openai")
    assert call.kind == trace.SpanKind.CLIENT
    assert call.parent.span_id == node_span.get_span_context().span_id
    assert call.attributes["gen_ai.request.model"] == "gpt-test" and call.attributes["gen_ai.usage.input_tokens"] == 12


async def test_log_records_carry_tenant_run_and_node_ids():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextIdsFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("maily.test.ids")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    class Engine:
        @traced_run
        async def run(self, plan, run_id, payload, emit, *, tenant_id="", meta=None):
            logger.info("run begins")
            await asyncio.gather(self._execute(SimpleNamespace(tenant_id=tenant_id, run_id=run_id),
                                               SimpleNamespace(id="n1", type=SimpleNamespace(spec=SimpleNamespace(type="data.set"))),
                                               {}, {}, {}, None),
                                 self._execute(SimpleNamespace(tenant_id=tenant_id, run_id=run_id),
                                               SimpleNamespace(id="n2", type=SimpleNamespace(spec=SimpleNamespace(type="util.delay"))),
                                               {}, {}, {}, None))
            logger.info("run ends")
            return SimpleNamespace(status="succeeded")

        @traced_node
        async def _execute(self, run, node, inputs, exprs, variables, iteration):
            await asyncio.sleep(0)
            logger.info("node %s", node.id)
            return {}

    try:
        await Engine().run(SimpleNamespace(name="p"), "run-1", {}, None, tenant_id="tenant-1", meta={"workflow_id": "wf-1"})
        logger.info("outside")
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    by_message = {d["message"]: d for d in lines}
    assert by_message["run begins"]["run_id"] == "run-1" and by_message["run begins"]["tenant_id"] == "tenant-1"
    assert by_message["run begins"]["workflow_id"] == "wf-1" and "node_id" not in by_message["run begins"]
    assert by_message["node n1"]["node_id"] == "n1" and by_message["node n1"]["run_id"] == "run-1"
    assert by_message["node n2"]["node_id"] == "n2" and by_message["node n2"]["node_type"] == "util.delay"
    assert "node_id" not in by_message["run ends"]
    assert "run_id" not in by_message["outside"]
