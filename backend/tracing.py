"""OpenTelemetry set-up and the request middleware.

Tracing is off unless OTEL_EXPORTER_OTLP_ENDPOINT is set: then `configure_tracing` installs
an SDK tracer provider that sends spans over OTLP/HTTP (the standard OTEL_* variables
apply: OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_HEADERS, OTEL_TRACES_SAMPLER...). Without it the
OpenTelemetry API hands out no-op spans and nothing is exported.

The middleware wraps every HTTP request and WebSocket connection:
  - a SERVER span per request (route template as its name), the parent of the run and
    node spans the request starts (asyncio tasks copy the context, so a run submitted by
    the handler continues the request's trace);
  - a log scope with a request id, to which the API binds the tenant once it knows it;
  - HTTP request counters and durations, and the open WebSocket connections gauge.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from backend.metrics import HTTP_DURATION, HTTP_REQUESTS, WEBSOCKETS
from flows.observe import end_log_scope, log_ids, new_log_scope, tracer

log = logging.getLogger("maily.tracing")

_configured = False


def configure_tracing(service_name: str | None = None) -> bool:
    """Install the OTLP exporter when OTEL_EXPORTER_OTLP_ENDPOINT (or the traces-specific
    variable) is set. Idempotent; True when spans are exported."""
    global _configured
    if _configured:
        return True
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if not endpoint or os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = os.environ.get("OTEL_SERVICE_NAME") or service_name or "maily-flow"
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _configured = True
    log.info("tracing: spans go to %s as service %s", endpoint, name)
    return True


def shutdown_tracing() -> None:
    provider = trace.get_tracer_provider()
    if _configured and hasattr(provider, "shutdown"):
        provider.shutdown()   # flushes the spans still in the batch


def _websocket_kind(path: str) -> str | None:
    if path.startswith("/api/collab/"):
        return "collab"
    if path.startswith("/api/runs/") and path.endswith("/events"):
        return "run_events"
    return None


def observe_middleware(app: ASGIApp) -> ASGIApp:
    """Litestar middleware (it runs after routing, so the route template is known)."""
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await app(scope, receive, send)
            return
        route = scope.get("path_template") or scope.get("path", "")
        method = scope.get("method", "GET") if kind == "http" else "WS"
        request_id = uuid.uuid4().hex[:16]
        attrs: dict[str, Any] = {"http.request.method": method, "http.route": route, "url.path": scope.get("path", ""),
                                 "maily.request_id": request_id}
        token = new_log_scope(request_id=request_id)
        ws_kind = _websocket_kind(scope.get("path", "")) if kind == "websocket" else None
        status_code = 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            await send(message)

        span_name = f"{method} {route}"
        try:
            with tracer().start_as_current_span(span_name, kind=SpanKind.SERVER, attributes=attrs,
                                                record_exception=True, set_status_on_exception=True) as span:
                if ws_kind:
                    WEBSOCKETS.labels(ws_kind).inc()
                try:
                    # A WebSocket's messages go straight out: one wrapper less per co-editing message.
                    await app(scope, receive, send_wrapper if kind == "http" else send)
                finally:
                    if ws_kind:
                        WEBSOCKETS.labels(ws_kind).dec()
                    ids = log_ids()
                    principal = scope.get("state", {}).get("maily_principal")
                    tenant_id = getattr(principal, "tenant_id", None) or ids.get("tenant_id")
                    if tenant_id:
                        span.set_attribute("maily.tenant_id", tenant_id)
                    if kind == "http":
                        span.set_attribute("http.response.status_code", status_code)
                        if status_code >= 500:
                            span.set_status(Status(StatusCode.ERROR))
        finally:
            if kind == "http":
                HTTP_REQUESTS.labels(method, route, str(status_code)).inc()
                HTTP_DURATION.labels(method, route).observe(time.perf_counter() - started)
            end_log_scope(token)

    return middleware
