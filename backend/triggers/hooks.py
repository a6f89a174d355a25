"""The public webhook endpoint, /hooks/{webhook_id}: no login; the sender proves it knows the
webhook's secret with an HMAC signature (or, if the webhook allows it, the secret itself as
?token=). Checks, in order: known hook (404), rate limits (429), body size (413), signature
and timestamp (401), method (405), content type (415), body schema (422); then a run starts
and the answer is 202 with its id, or, for a webhook whose `respond` is when_done or node, the
run's answer (triggers/respond.py). See docs/triggers.md."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any
from urllib.parse import parse_qsl

from limits import parse
from litestar import Request, Response
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.crypto import DecryptError
from backend.db.models import Workflow, looks_like_id, utcnow
from backend.errors import (BadRequest, MethodNotAllowed, NotFound, PayloadTooLarge, Unauthorized,
                            Unprocessable, UnsupportedMediaType)
from backend.runs.services import graph_of_workflow
from backend.ratelimit import enforce, moving_window
from backend.settings import Settings
from backend.triggers import respond
from backend.triggers.models import Webhook
from backend.triggers.replay import delivery_key
from backend.triggers.schemas import WebhookAcceptedOut
from backend.triggers.services import start_triggered_run, trigger_principal, webhook_secret
from flows.jsonlimits import JsonLimitError, parse_limited
from nodes.user_schema import SchemaError, ValidationError, validate_user_schema

log = logging.getLogger("maily.triggers")

SIGNATURE_HEADER = "x-maily-signature"
TIMESTAMP_HEADER = "x-maily-timestamp"
# Never handed to the workflow: credentials of any kind.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key", "x-maily-token",
                            SIGNATURE_HEADER})
DEFAULT_METHODS = ("POST",)


def _bad_signature(detail: str) -> Unauthorized:
    return Unauthorized(detail, headers={"WWW-Authenticate": 'HMAC-SHA256 header="X-Maily-Signature"'})


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The X-Maily-Signature value: sha256=hex(HMAC-SHA256(secret, "<timestamp>." + body))."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class HookLimits:
    """Moving-window limits per webhook and per tenant. In memory (per app process), or in
    Redis when MAILY_REDIS_URL is set, so that several app processes share one budget."""

    def __init__(self, settings: Settings) -> None:
        self._limiter = moving_window(settings)
        self._hook = parse(settings.webhook_rate)
        self._tenant = parse(settings.webhook_tenant_rate)

    async def check(self, tenant_id: str, webhook_id: str) -> None:
        await enforce(self._limiter, self._hook, ("webhook", webhook_id), "this webhook")
        await enforce(self._limiter, self._tenant, ("webhook-tenant", tenant_id), "this workspace's webhooks")


async def _read_capped(request: Request[Any, Any, Any], cap: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise PayloadTooLarge(f"the body is larger than this endpoint's limit of {cap} bytes", code="too_large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise PayloadTooLarge(f"the body is larger than this endpoint's limit of {cap} bytes", code="too_large")
        chunks.append(chunk)
    return b"".join(chunks)


def _authenticate(request: Request[Any, Any, Any], hook: Webhook, body: bytes, tolerance_s: int) -> bool:
    """True when the secret came as ?token= (so it is kept out of the payload's query)."""
    try:
        secret = webhook_secret(hook)
    except DecryptError:
        log.error("webhook %s: its secret does not decrypt (was MAILY_SECRET_KEY changed?)", hook.id)
        raise _bad_signature("this webhook's secret cannot be read; rotate it") from None
    signature = request.headers.get(SIGNATURE_HEADER)
    if signature:
        stamp = (request.headers.get(TIMESTAMP_HEADER) or "").strip()
        if not stamp.isdigit():
            raise _bad_signature("X-Maily-Timestamp is missing or not a Unix time in seconds")
        if abs(time.time() - int(stamp)) > tolerance_s:
            raise _bad_signature(f"X-Maily-Timestamp is more than {tolerance_s} s away from now (replay?)")
        if not hmac.compare_digest(signature.strip().encode(), sign(secret, stamp, body).encode()):
            raise _bad_signature("X-Maily-Signature does not match the body (expected sha256=<hex HMAC-SHA256 "
                                 "of '<timestamp>.<body>' with the webhook's secret>)")
        return False
    token = request.query_params.get("token")
    if token is not None and hook.allow_token:
        if hmac.compare_digest(token.encode(), secret.encode()):
            return True
        raise _bad_signature("the token is not this webhook's secret")
    raise _bad_signature("sign the request: X-Maily-Signature and X-Maily-Timestamp"
                         + (", or pass ?token=<secret>" if hook.allow_token else ""))


def _webhook_nodes(graph: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    return [n for n in nodes or () if isinstance(n, dict) and n.get("type") == "trigger.webhook"]


def _parse_body(request: Request[Any, Any, Any], body: bytes) -> Any:
    if not body:
        return None
    ctype = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if ctype == "application/json" or ctype.endswith("+json"):
        try:
            return parse_limited(body, max_bytes=len(body) + 1, max_depth=32)
        except JsonLimitError as exc:
            raise BadRequest(exc.message, code=exc.code) from None
        except (ValueError, json.JSONDecodeError) as exc:
            raise BadRequest(f"malformed JSON: {exc}", code="malformed") from None
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise UnsupportedMediaType("the body is not UTF-8 text") from None
    if ctype == "application/x-www-form-urlencoded":
        return dict(parse_qsl(text, keep_blank_values=True))
    if ctype == "text/plain":
        return text
    raise UnsupportedMediaType(f"Content-Type {ctype or '(none)'} is not accepted; send application/json, "
                               "application/x-www-form-urlencoded or text/plain")


def _check_schema(body: Any, nodes: list[dict[str, Any]]) -> None:
    for node in nodes:
        schema = (node.get("config") or {}).get("body_schema")
        if not schema:
            continue
        try:
            validate_user_schema(body, schema)
        except ValidationError as e:
            pointer = "/body" + "".join(f"/{p}" for p in e.absolute_path)
            raise Unprocessable(f"the body does not match the webhook's schema: {e.message}",
                                pointer=pointer, field="body") from None
        except SchemaError as e:
            raise Unprocessable(f"the webhook node's body_schema is not a valid JSON Schema: {e.message}",
                                field="body_schema") from None


async def deliver(request: Request[Any, Any, Any], s: AsyncSession, webhook_id: str) -> WebhookAcceptedOut | Response[Any]:
    state = request.app.state
    settings: Settings = state.settings
    hook = None
    if looks_like_id(webhook_id):
        hook = await s.scalar(select(Webhook).join(Workflow, Workflow.id == Webhook.workflow_id)
                              .where(Webhook.id == webhook_id, Workflow.deleted_at.is_(None)))
    if hook is None:
        raise NotFound("no such webhook")
    await state.trigger_limits.check(hook.tenant_id, hook.id)
    body = await _read_capped(request, settings.webhook_max_body_bytes)
    by_token = _authenticate(request, hook, body, settings.webhook_tolerance_s)

    p = trigger_principal(hook.tenant_id, hook.created_by, "trigger:webhook")
    graph, version = await graph_of_workflow(s, p, hook.workflow_id, hook.source, None, state.collab)
    nodes = _webhook_nodes(graph)
    methods = sorted({m for n in nodes for m in ((n.get("config") or {}).get("methods") or DEFAULT_METHODS)}) \
        or list(DEFAULT_METHODS)
    if request.method not in methods:
        raise MethodNotAllowed(f"this webhook accepts {', '.join(methods)}, not {request.method}",
                               headers={"Allow": ", ".join(methods)})
    parsed = _parse_body(request, body)
    _check_schema(parsed, nodes)
    query = {k: v for k, v in request.query_params.items() if not (by_token and k == "token")}
    headers = {k.lower(): v for k, v in request.headers.items() if k.lower() not in SECRET_HEADERS}
    payload = {"method": request.method, "path": request.url.path, "headers": headers, "query": query,
               "body": parsed}
    # Last check before the run: a delivery refused above (422, 405...) is not remembered.
    replay_key = None if by_token else delivery_key(hook.id, request.headers[SIGNATURE_HEADER])
    if replay_key:
        await state.webhook_replays.claim(s, replay_key, int(request.headers[TIMESTAMP_HEADER].strip()),
                                          settings.webhook_tolerance_s)
    try:
        run = await start_triggered_run(state, s, tenant_id=hook.tenant_id, user_id=hook.created_by,
                                        workflow_id=hook.workflow_id, source=hook.source, payload=payload,
                                        trigger="webhook", graph=graph, version=version)
    except BaseException:
        if replay_key:
            await state.webhook_replays.release(replay_key)
        raise
    await s.execute(update(Webhook).where(Webhook.id == hook.id).values(last_used_at=utcnow()))
    if hook.respond != "immediately":    # a synchronous webhook: the run's answer, or 504 (triggers/respond.py)
        await s.commit()
        return await respond.answer(state.bus, run.id, hook.respond, graph, settings.webhook_respond_timeout_s)
    return WebhookAcceptedOut(run_id=run.id, status=run.status, workflow_id=hook.workflow_id,
                              workflow_version=run.workflow_version)
