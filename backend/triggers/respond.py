"""Synchronous webhooks: what a delivery answers when its webhook's `respond` is not "immediately".

`when_done`: the run's final output as JSON (200), or its error as problem+json (500, naming the
node). `node`: what the run's first `webhook.respond` node sets (status, headers, body) as soon as
it has run, the run going on after it; a run that ends without reaching one answers as
`when_done`. Either way the endpoint waits at most MAILY_WEBHOOK_RESPOND_TIMEOUT_S, then answers
504 with the run id and leaves the run going. The run's events come from the app's EventBus
(which also relays a worker's in production mode), so nothing polls the database."""

from __future__ import annotations

import asyncio
import json
from contextlib import aclosing
from typing import Any

from litestar import Response

from backend.errors import ApiError
from flows.events import EventBus, RunEvent

RESPONDER = "webhook.respond"
# The answer is the workflow's, on the app's origin: a document it could make a browser render is
# sandboxed (no script, no same-origin access), whatever its content type.
SANDBOX = {"content-security-policy": "sandbox; default-src 'none'; frame-ancestors 'none'",
           "x-content-type-options": "nosniff", "cache-control": "no-store"}


class WorkflowFailed(ApiError):
    status, slug, title = 500, "workflow-failed", "The workflow failed"


class RespondTimeout(ApiError):
    status, slug, title = 504, "timeout", "The workflow did not answer in time"


def responders(graph: dict[str, Any]) -> set[str]:
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    return {n["id"] for n in nodes or () if isinstance(n, dict) and n.get("type") == RESPONDER and "id" in n}


async def answer(bus: EventBus, run_id: str, respond: str, graph: dict[str, Any], timeout_s: float) -> Response[Any]:
    """Wait for what the webhook answers (see the module doc); raises WorkflowFailed or RespondTimeout."""
    nodes = responders(graph) if respond == "node" else set()
    try:
        async with asyncio.timeout(timeout_s), aclosing(bus.subscribe(run_id)) as events:
            async for event in events:     # aclosing: the subscription ends with the answer
                done = _answer_of(event, nodes)
                if done is not None:
                    return done
    except TimeoutError:
        pass
    raise RespondTimeout(f"the workflow did not answer within {timeout_s:g} s; run {run_id} goes on",
                         run_id=run_id)


def _answer_of(event: RunEvent, nodes: set[str]) -> Response[Any] | None:
    if event.kind == "node.succeeded" and event.node_id in nodes:
        out = (event.data.get("output") or {}).get("output") or {}    # its ports: the answer is on `output`
        return node_response(out.get("status", 200), out.get("headers") or {}, out.get("body"), event.run_id)
    if event.kind == "run.succeeded":
        return Response(content=event.data.get("output"), status_code=200, media_type="application/json",
                        headers={**SANDBOX, "x-maily-run-id": event.run_id})
    if event.kind in ("run.failed", "run.cancelled"):
        error = event.data.get("error") or {"kind": "cancelled", "message": "the run was cancelled"}
        raise WorkflowFailed(f"the workflow failed: {error.get('message')}", run_id=event.run_id,
                             node_id=error.get("node_id"), kind=error.get("kind"),
                             headers={"x-maily-run-id": event.run_id})
    if event.kind in ("run.waiting", "run.paused"):
        raise RespondTimeout(f"run {event.run_id} is {event.status}; it answers no request", run_id=event.run_id)
    return None


def node_response(status: Any, headers: dict[str, Any], body: Any, run_id: str) -> Response[Any]:
    """The answer a webhook.respond node set: text as text/plain, anything else as JSON, unless it
    named its content type; the server's sandboxing headers always win."""
    given = {str(k).lower(): str(v) for k, v in headers.items()}
    ctype = given.pop("content-type", None)
    if isinstance(body, (bytes, str)):
        content: Any = body
        ctype = ctype or "text/plain; charset=utf-8"
    else:
        content = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        ctype = ctype or ("application/json" if body is not None else "text/plain")
    return Response(content=content, status_code=int(status), media_type=ctype,
                    headers={**given, **SANDBOX, "x-maily-run-id": run_id})
