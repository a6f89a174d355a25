"""Observability hooks of the engine: OpenTelemetry spans per run and per node, the node
duration histogram, and the ids (tenant, run, node) that log records carry.

Everything here is cheap when nothing is configured: the OpenTelemetry API hands out
no-op spans until a tracer provider is installed (backend/tracing.py does that when
OTEL_EXPORTER_OTLP_ENDPOINT is set), and a histogram observation is a lock and an add.

The ids live in a context variable holding a dict: asyncio tasks copy the context, so a
node task sees its run's ids and its own node id, and never a sibling's.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import time
from typing import Any, Awaitable, Callable, TypeVar

from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
from prometheus_client import CollectorRegistry, Histogram

# One registry for every Maily metric (backend/metrics.py defines the rest and serves it).
REGISTRY = CollectorRegistry(auto_describe=True)

NODE_DURATION = Histogram(
    "maily_node_duration_seconds", "Time a node took, from start to its final state, by node type and outcome",
    ["node_type", "status"], registry=REGISTRY,
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800),
)

TRACER_NAME = "maily"

_LOG_IDS: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("maily_log_ids", default=None)


def log_ids() -> dict[str, Any]:
    """The ids the current code runs under (tenant_id, run_id, node_id, request_id...)."""
    return _LOG_IDS.get() or {}


def new_log_scope(**ids: Any) -> contextvars.Token[dict[str, Any] | None]:
    """Start a scope of ids on top of the current ones (reset it with the token)."""
    merged = {**log_ids(), **{k: v for k, v in ids.items() if v not in (None, "")}}
    return _LOG_IDS.set(merged)


def end_log_scope(token: contextvars.Token[dict[str, Any] | None]) -> None:
    try:
        _LOG_IDS.reset(token)
    except ValueError:  # reset from another context (a task finished elsewhere): nothing to undo
        pass


def bind_log_ids(**ids: Any) -> None:
    """Add ids to the current scope in place, so code that shares the scope's dict (the
    request's, from its middleware) sees them: the API binds the tenant once it knows it."""
    current = _LOG_IDS.get()
    values = {k: v for k, v in ids.items() if v not in (None, "")}
    if current is None:
        _LOG_IDS.set(values)
    else:
        current.update(values)


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


T = TypeVar("T")


def traced_run(fn: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """Decorates Engine.run(self, plan, run_id, payload, emit, *, tenant_id, meta, ...): one
    span per run, the parent of its nodes' spans; the run's ids on every log record."""

    @functools.wraps(fn)
    async def wrapper(self: Any, plan: Any, run_id: str, payload: Any, emit: Any, **kwargs: Any) -> T:
        tenant_id = kwargs.get("tenant_id") or ""
        meta = kwargs.get("meta") or {}
        attrs = {"maily.tenant_id": tenant_id, "maily.run_id": run_id, "maily.workflow": getattr(plan, "name", "")}
        if meta.get("workflow_id"):
            attrs["maily.workflow_id"] = meta["workflow_id"]
        if meta.get("trigger"):
            attrs["maily.trigger"] = meta["trigger"]
        token = new_log_scope(tenant_id=tenant_id, run_id=run_id, workflow_id=meta.get("workflow_id"))
        try:
            with tracer().start_as_current_span("maily.run", attributes=attrs,
                                                record_exception=False, set_status_on_exception=False) as span:
                try:
                    outcome = await fn(self, plan, run_id, payload, emit, **kwargs)
                except asyncio.CancelledError:
                    span.set_attribute("maily.status", "cancelled")
                    raise
                status = getattr(outcome, "status", "")
                span.set_attribute("maily.status", status)
                if status == "failed":
                    error = getattr(outcome, "error", None) or {}
                    span.set_status(Status(StatusCode.ERROR, str(error.get("message", ""))[:200]))
                return outcome
        finally:
            end_log_scope(token)

    return wrapper


def traced_node(fn: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """Decorates Engine._execute(self, run, node, inputs, exprs, variables, iteration): one
    span per node execution (a child of the run's), the node duration histogram, the node
    id on log records. Provider calls made by the node are children of its span."""

    @functools.wraps(fn)
    async def wrapper(self: Any, run: Any, node: Any, *args: Any, **kwargs: Any) -> T:
        node_type = node.type.spec.type
        iteration = args[3] if len(args) > 3 else kwargs.get("iteration")
        attrs: dict[str, Any] = {"maily.tenant_id": run.tenant_id, "maily.run_id": run.run_id,
                                 "maily.node_id": node.id, "maily.node_type": node_type}
        if iteration is not None:
            attrs["maily.iteration"] = iteration
        token = new_log_scope(node_id=node.id, node_type=node_type)
        started = time.perf_counter()
        status = "failed"
        try:
            with tracer().start_as_current_span(f"maily.node {node_type}", attributes=attrs,
                                                record_exception=False, set_status_on_exception=False) as span:
                try:
                    out = await fn(self, run, node, *args, **kwargs)
                except asyncio.CancelledError:
                    status = "cancelled"
                    span.set_attribute("maily.status", status)
                    raise
                except Exception as exc:
                    error = getattr(exc, "error", None) or {}
                    span.set_status(Status(StatusCode.ERROR, str(error.get("message", exc))[:200]))
                    if error.get("kind"):
                        span.set_attribute("maily.error_kind", error["kind"])
                    span.set_attribute("maily.status", "failed")
                    raise
                # a bare object() is the engine's sentinel for a node that suspended the run
                status = "waiting" if type(out) is object else "succeeded"
                span.set_attribute("maily.status", status)
                return out
        finally:
            NODE_DURATION.labels(node_type, status).observe(time.perf_counter() - started)
            end_log_scope(token)

    return wrapper
