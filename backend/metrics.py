"""Prometheus metrics: what they are, how they are fed, and GET /metrics.

Every metric lives in one registry (`flows.observe.REGISTRY`, which also holds the node
duration histogram the engine observes). docs/operations.md lists them; the Grafana
dashboard (deploy/grafana/maily.json) uses exactly these names (a test checks it).

Fed by:
  runs              MetricsSink, an EventSink next to the recorder (backend/runs/plugin.py)
  nodes             flows/observe.py (decorates the engine's node execution)
  queue depth       read from the RunManager's queues at each scrape
  AI usage          the usage ledger's write (backend/ai/store.py)
  emails            the mailer's per-message results (nodes/email/mailer.py `observe`)
  HTTP, WebSockets  the request middleware (backend/tracing.py)

With MAILY_METRICS_TOKEN set, /metrics wants `Authorization: Bearer <token>`. Without one it
answers 403 (metrics name tenants' activity), unless MAILY_METRICS_PUBLIC=true opens it on purpose.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from litestar import Request, Response, get
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

from backend.errors import Forbidden
from flows.events import RunEvent
from flows.observe import NODE_DURATION, REGISTRY

RUNS = Counter("maily_runs_total", "Run state changes by status (queued, started, succeeded, failed, cancelled, "
               "waiting, paused)",
               ["status"], registry=REGISTRY)
RUN_DURATION = Histogram("maily_run_duration_seconds", "Time from a run's start to its end, by final status",
                         ["status"], registry=REGISTRY,
                         buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 86400))
NODE_RETRIES = Counter("maily_node_retries_total", "Node attempts that failed temporarily and were retried",
                       registry=REGISTRY)
QUEUE_DEPTH = Gauge("maily_run_queue_depth", "Runs waiting in their tenant's queue (over the concurrency limit)",
                    registry=REGISTRY)
RUNS_ACTIVE = Gauge("maily_runs_active", "Runs holding a slot of their tenant's queue in this process",
                    registry=REGISTRY)
AI_TOKENS = Counter("maily_ai_tokens_total", "AI tokens by provider, model and direction (input, output)",
                    ["provider", "model", "direction"], registry=REGISTRY)
AI_COST = Counter("maily_ai_cost_usd_total", "AI cost in USD by provider and model", ["provider", "model"],
                  registry=REGISTRY)
AI_CALLS = Counter("maily_ai_calls_total", "AI provider calls by outcome (ok, error, cache_hit)",
                   ["provider", "model", "outcome"], registry=REGISTRY)
EMAILS = Counter("maily_emails_total", "Email messages by provider and result (sent, duplicate, failed, "
                 "retrying, suppressed, uncertain)", ["provider", "status"], registry=REGISTRY)
WEBSOCKETS = Gauge("maily_websocket_connections", "Open WebSocket connections by kind (run_events, collab)",
                   ["kind"], registry=REGISTRY)
HTTP_REQUESTS = Counter("maily_http_requests_total", "HTTP requests by method, route template and status",
                        ["method", "route", "status"], registry=REGISTRY)
HTTP_DURATION = Histogram("maily_http_request_duration_seconds", "HTTP request time by method and route template",
                          ["method", "route"], registry=REGISTRY,
                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))

for _kind in ("run_events", "collab"):
    WEBSOCKETS.labels(_kind)      # present at 0 from the start, so dashboards show a line


# A run's pass ends finished, or suspended (waiting) or paused until it is resumed.
_PASS_END = frozenset({"succeeded", "failed", "cancelled", "waiting", "paused"})


class MetricsSink:
    """An EventSink: counts run state changes and times runs; counts node retries."""

    def __init__(self) -> None:
        self._started: dict[str, float] = {}

    def emit(self, event: RunEvent) -> None:
        kind = event.kind
        if kind.startswith("run."):
            status = event.status
            RUNS.labels(status).inc()
            if status == "started":
                self._started[event.run_id] = time.perf_counter()
            elif status in _PASS_END:
                began = self._started.pop(event.run_id, None)
                if began is not None:
                    RUN_DURATION.labels(status).observe(time.perf_counter() - began)
        elif kind == "node.retrying":
            NODE_RETRIES.inc()


def observe_ai_usage(usage: dict[str, Any]) -> None:
    """One ledger row: a provider call (ok or not) or a cache hit."""
    provider, model = str(usage.get("provider") or ""), str(usage.get("model") or "")
    outcome = "cache_hit" if usage.get("cached") else ("ok" if usage.get("ok", True) else "error")
    AI_CALLS.labels(provider, model, outcome).inc()
    if usage.get("tokens_in"):
        AI_TOKENS.labels(provider, model, "input").inc(int(usage["tokens_in"]))
    if usage.get("tokens_out"):
        AI_TOKENS.labels(provider, model, "output").inc(int(usage["tokens_out"]))
    if usage.get("cost_micros"):
        AI_COST.labels(provider, model).inc(int(usage["cost_micros"]) / 1_000_000)


def observe_email(result: dict[str, Any]) -> None:
    """One message's result from Mailer.send_batch."""
    status = "duplicate" if result.get("duplicate") else str(result.get("status") or "unknown")
    EMAILS.labels(str(result.get("provider") or ""), status).inc()


def _refresh_gauges(state: Any) -> None:
    runner = getattr(state, "runner", None)
    queues = getattr(runner, "_queues", None)
    if queues is None:
        return
    waiting = running = 0
    for q in list(queues.values()):
        waiting += len(getattr(q, "waiting", ()))
        running += getattr(q, "running", 0)
    QUEUE_DEPTH.set(waiting)
    RUNS_ACTIVE.set(running)


def scrape() -> bytes:
    return generate_latest(REGISTRY)


@get("/metrics", include_in_schema=False, sync_to_thread=False)
def metrics_endpoint(request: Request) -> Response[bytes]:
    """Prometheus text format. Behind MAILY_METRICS_TOKEN (a bearer token), or open with MAILY_METRICS_PUBLIC."""
    settings = request.app.state.settings
    secret = settings.metrics_token
    token = secret.get_secret_value() if hasattr(secret, "get_secret_value") else str(secret or "")
    if not token and not settings.metrics_public:
        raise Forbidden("/metrics is off: set MAILY_METRICS_TOKEN and scrape with `Authorization: Bearer <token>`, "
                        "or set MAILY_METRICS_PUBLIC=true to serve it without one (docs/operations.md)",
                        code="metrics_disabled")
    if token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            return Response(b"metrics need Authorization: Bearer <MAILY_METRICS_TOKEN>\n", status_code=401,
                            media_type="text/plain", headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    _refresh_gauges(request.app.state)
    return Response(scrape(), media_type=CONTENT_TYPE_LATEST)


__all__ = ["REGISTRY", "NODE_DURATION", "MetricsSink", "metrics_endpoint", "observe_ai_usage", "observe_email",
           "scrape"]
