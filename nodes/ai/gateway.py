"""The AI gateway: every AI node asks it to run one task, and it decides how.

    tier -> provider chain -> (cache | budget reservation -> call with retries) -> parse
    and validate -> settle cost and write the ledger row (one store call); any failure moves
    to the next provider in the chain, and past the last one to the node's deterministic
    baseline. The answer is written to the cache after the node has it (write-behind): a
    tracked task, visible to later calls of this gateway at once, awaited by flush()/aclose().

The node always gets {"result": ..., "ai": {decision, reason, provider, model, tokens...}}
and the run always succeeds: AI is an enhancement, never a dependency. Credentials go to
the provider's client only, never into a prompt, a log line, an output or an error.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from tenacity import AsyncRetrying, retry_if_exception, wait_exponential_jitter

from nodes.ai.breaker import Breaker
from nodes.ai.cache import Cache, MemoryCache, cache_key
from nodes.ai.pricing import PriceTable, estimate_tokens, reserve_tokens
from nodes.ai.providers.base import ChatRequest, ChatResult, Provider, ProviderError
from nodes.ai.store import AIStore, Credential, MemoryStore
from nodes.net import check_url
from nodes.sdk import NodeContext, NodeError

log = logging.getLogger("maily.ai")

# free -> offline only; paid tiers try a hosted model, then a second provider, then the baseline.
DEFAULT_TIER_MODELS: dict[str, list[dict[str, str]]] = {
    "free": [],
    "premium": [{"provider": "openai", "model": "gpt-4o-mini"},
                {"provider": "anthropic", "model": "claude-3-5-haiku-latest"}],
    "enterprise": [{"provider": "openai", "model": "gpt-4o"},
                   {"provider": "anthropic", "model": "claude-sonnet-4-5"}],
}
PROVIDER_KINDS = ("openai", "anthropic", "compatible")


class InvalidOutput(ValueError):
    """The model's answer does not fit the node's schema or category set: never passed on."""


@dataclass
class Task:
    node_type: str
    system: str
    prompt: str
    parse: Callable[[str], Any]          # model text -> result; raises InvalidOutput
    baseline: Callable[[], Any]          # the deterministic answer
    json_mode: bool = False
    max_tokens: int = 512
    temperature: float = 0.0


@dataclass
class AIConfig:
    tier_models: dict[str, list[dict[str, str]]] = field(default_factory=lambda: dict(DEFAULT_TIER_MODELS))
    prices: PriceTable = field(default_factory=PriceTable)
    timeout_s: float = 20.0              # one provider attempt
    deadline_s: float = 60.0             # all providers and retries of one node run
    retries: int = 2                     # after the first attempt, retryable failures only
    backoff_s: float = 0.5
    max_backoff_s: float = 8.0
    max_retry_after_s: float = 10.0      # a longer Retry-After: fall back instead of waiting
    cache_ttl_s: int = 24 * 3600
    breaker_threshold: int = 5
    breaker_reset_s: float = 30.0
    allowed_hosts: frozenset[str] = frozenset()
    operator_credentials: dict[str, Credential] = field(default_factory=dict)


class _Skip(Exception):
    """This chain entry cannot be tried (no credentials, blocked address, circuit open)."""


class AIGateway:
    def __init__(self, config: AIConfig | None = None, store: AIStore | None = None, cache: Cache | None = None,
                 sleep: Callable[[float], Any] = asyncio.sleep):
        self.config = config or AIConfig()
        self.store: AIStore = store or MemoryStore()
        self.cache: Cache = cache or MemoryCache()
        self.breakers: dict[str, Breaker] = {}
        self._providers: dict[tuple[str, str, str], Provider] = {}
        self._checked: dict[str, float] = {}
        self._sleep = sleep
        self._writes: set[asyncio.Task[None]] = set()
        self._pending: dict[str, tuple[float, dict[str, Any]]] = {}   # key -> (expires, value) being written

    # --- the decision -------------------------------------------------------------------
    async def run(self, ctx: NodeContext, task: Task) -> dict[str, Any]:
        cfg = self.config
        tier = await self.store.tier(ctx.tenant_id)
        chain = [e for e in cfg.tier_models.get(tier, []) if e.get("provider") in PROVIDER_KINDS]
        if not chain:
            return _baseline(task, "tier", tier, [])
        deadline = time.monotonic() + cfg.deadline_s
        attempts: list[dict[str, Any]] = []
        for i, entry in enumerate(chain):
            kind, model = entry["provider"], entry["model"]
            if time.monotonic() >= deadline:
                attempts.append({"provider": kind, "model": model, "error": "deadline passed"})
                continue
            try:
                provider = await self._provider(ctx.tenant_id, entry)
            except _Skip as exc:
                attempts.append({"provider": kind, "model": model, "error": str(exc)})
                continue
            request = ChatRequest(model=model, system=task.system, prompt=task.prompt, max_tokens=task.max_tokens,
                                  temperature=task.temperature, json_mode=task.json_mode)
            key = cache_key(ctx.tenant_id, provider.key, request.cache_fields())
            started = time.perf_counter()
            hit = await self._cache_get(key)
            if hit is not None:
                try:
                    result = task.parse(hit["text"])
                except InvalidOutput:
                    result = hit = None
                if hit is not None:
                    await self._record(ctx, task, kind, model, 0, 0, 0, True, started, None)
                    return _ai(result, "cache_hit", tier, kind, model, 0, 0, 0, True, attempts)
            outcome = await self._attempt(ctx, task, provider, kind, request, deadline)
            if isinstance(outcome, str):
                if outcome == "budget":
                    return _baseline(task, "budget", tier, attempts)
                attempts.append({"provider": kind, "model": model, "error": outcome})
                continue
            res, result, tokens_in, tokens_out, cost = outcome
            self._cache_set_behind(key, {"text": res.text, "model": res.model})
            return _ai(result, "tier" if not attempts else "fallback", tier, kind, model, tokens_in, tokens_out,
                       cost, False, attempts)
        return _baseline(task, "provider_down", tier, attempts)

    async def _attempt(self, ctx: NodeContext, task: Task, provider: Provider, kind: str, request: ChatRequest,
                       deadline: float) -> str | tuple[ChatResult, Any, int, int, int]:
        """One chain entry: reserve, call, settle, parse. A string is why it did not work."""
        cfg, model = self.config, request.model
        estimate = cfg.prices.cost_micros(kind, model, reserve_tokens(request.system + request.prompt),
                                          request.max_tokens)
        if not await self.store.reserve(ctx.tenant_id, estimate):
            return "budget"
        breaker = self.breakers.setdefault(provider.key, Breaker(cfg.breaker_threshold, cfg.breaker_reset_s))
        if not breaker.allow():
            await self._finish(ctx.tenant_id, estimate, 0, False, None)
            return "circuit open"
        started = time.perf_counter()
        try:
            res = await self._call(provider, request, deadline)
        except ProviderError as exc:
            breaker.failure(str(exc))
            await self._finish(ctx.tenant_id, estimate, 0, False,
                               self._usage(ctx, task, kind, model, 0, 0, 0, False, started, str(exc)))
            log.warning("ai provider %s failed for %s: %s", kind, task.node_type, exc)
            return str(exc)
        latency = (time.perf_counter() - started) * 1000
        breaker.success(latency)
        tokens_in = res.tokens_in if res.tokens_in is not None else estimate_tokens(request.system + request.prompt)
        tokens_out = res.tokens_out if res.tokens_out is not None else estimate_tokens(res.text)
        cost = cfg.prices.cost_micros(kind, model, tokens_in, tokens_out)
        try:
            result = task.parse(res.text)
        except InvalidOutput as exc:   # paid for, but unusable: recorded, then the next provider
            await self._finish(ctx.tenant_id, estimate, cost, True, self._usage(
                ctx, task, kind, model, tokens_in, tokens_out, cost, False, started, f"invalid output: {exc}"))
            return f"invalid output: {exc}"
        await self._finish(ctx.tenant_id, estimate, cost, True,
                           self._usage(ctx, task, kind, model, tokens_in, tokens_out, cost, False, started, None))
        return res, result, tokens_in, tokens_out, cost

    async def _call(self, provider: Provider, request: ChatRequest, deadline: float) -> ChatResult:
        cfg = self.config
        backoff = wait_exponential_jitter(initial=cfg.backoff_s, max=cfg.max_backoff_s)

        def wait(state: Any) -> float:
            after = getattr(state.outcome.exception(), "retry_after", None)
            return min(after, cfg.max_retry_after_s) if after is not None else backoff(state)

        def stop(state: Any) -> bool:
            after = getattr(state.outcome.exception(), "retry_after", None) or 0.0
            return (state.attempt_number > cfg.retries or after > cfg.max_retry_after_s
                    or time.monotonic() + after >= deadline)

        retrying = AsyncRetrying(stop=stop, wait=wait, reraise=True, sleep=self._sleep,
                                 retry=retry_if_exception(lambda e: isinstance(e, ProviderError) and e.retryable))
        async for attempt in retrying:
            with attempt:
                budget = max(0.05, min(cfg.timeout_s, deadline - time.monotonic()))
                try:
                    return await asyncio.wait_for(_traced_complete(provider, request, budget), budget + 0.5)
                except (TimeoutError, asyncio.TimeoutError):
                    raise ProviderError("timed out", retryable=True) from None
        raise AssertionError("unreachable")

    # --- providers ----------------------------------------------------------------------
    async def _provider(self, tenant_id: str, entry: dict[str, str]) -> Provider:
        kind = entry["provider"]
        cred = await self.store.credential(tenant_id, kind) or self.config.operator_credentials.get(kind)
        base_url = (cred.base_url if cred and cred.base_url else None) or entry.get("base_url")
        if kind == "compatible" and not base_url:
            raise _Skip("no base URL configured")
        if kind != "compatible" and (cred is None or not cred.api_key):
            raise _Skip("no credentials")
        if base_url:
            await self._check_url(base_url)
        api_key = cred.api_key if cred else ""
        ident = (kind, base_url or "", hashlib.sha256(api_key.encode()).hexdigest())
        provider = self._providers.get(ident)
        if provider is None:
            provider = self._providers[ident] = make_provider(kind, api_key, base_url, self.config.allowed_hosts)
        return provider

    async def _check_url(self, base_url: str) -> None:
        """Provider URLs pass the same SSRF guard as http.request (a tenant could otherwise
        point 'compatible' at the metadata service), unless the operator allow-listed the host."""
        if self._checked.get(base_url, 0) > time.monotonic():
            return
        try:
            await check_url(base_url, self.config.allowed_hosts)
        except NodeError as exc:
            raise _Skip(f"base URL refused: {getattr(exc, 'message', exc)}") from None
        self._checked[base_url] = time.monotonic() + 60

    @staticmethod
    def _usage(ctx: NodeContext, task: Task, kind: str, model: str, tokens_in: int, tokens_out: int,
               cost: int, cached: bool, started: float, error: str | None) -> dict[str, Any]:
        return {"tenant_id": ctx.tenant_id, "workflow_id": ctx.workflow_id, "run_id": ctx.run_id,
                "node_id": ctx.node_id, "node_type": task.node_type, "provider": kind, "model": model,
                "tokens_in": tokens_in, "tokens_out": tokens_out, "cost_micros": cost, "cached": cached,
                "latency_ms": round((time.perf_counter() - started) * 1000, 2), "ok": error is None, "error": error}

    async def _record(self, ctx: NodeContext, task: Task, kind: str, model: str, tokens_in: int, tokens_out: int,
                      cost: int, cached: bool, started: float, error: str | None) -> None:
        try:
            await self.store.record(self._usage(ctx, task, kind, model, tokens_in, tokens_out, cost, cached,
                                                started, error))
        except Exception:  # the ledger must not turn a good answer into a failed node
            log.exception("ai usage could not be recorded")

    async def _finish(self, tenant_id: str, reserved: int, actual: int, called: bool,
                      usage: dict[str, Any] | None) -> None:
        """Settle the reservation and write the ledger row, together. If that fails, the
        reservation stays held (the budget errs towards refusing) and the error is logged."""
        try:
            await self.store.finish(tenant_id, reserved, actual, called, usage)
        except Exception:
            log.exception("ai usage could not be settled and recorded")

    # --- the cache, written behind ------------------------------------------------------
    async def _cache_get(self, key: str) -> dict[str, Any] | None:
        pending = self._pending.get(key)
        if pending is not None and pending[0] > time.monotonic():
            return pending[1]
        try:
            return await self.cache.get(key)
        except Exception:  # a cache outage is a miss, never a failed node
            log.exception("ai cache could not be read")
            return None

    def _cache_set_behind(self, key: str, value: dict[str, Any]) -> None:
        """Write an answer to the cache without making the node wait. Until the write lands,
        this gateway answers the key from memory; flush() and aclose() await the writes."""
        ttl = self.config.cache_ttl_s
        self._pending[key] = (time.monotonic() + ttl, value)
        write = asyncio.create_task(self._cache_write(key, value, ttl), name="ai cache write")
        self._writes.add(write)
        write.add_done_callback(self._writes.discard)

    async def _cache_write(self, key: str, value: dict[str, Any], ttl: int) -> None:
        try:
            await self.cache.set(key, value, ttl)
        except Exception:  # a lost cache entry costs one more call later, never a node
            log.exception("ai cache entry could not be written")
        finally:
            if self._pending.get(key, (0, None))[1] is value:
                del self._pending[key]

    async def flush(self) -> None:
        """Wait for every cache write started so far."""
        while self._writes:
            await asyncio.gather(*list(self._writes))

    def health(self) -> list[dict[str, Any]]:
        return [{"provider": key, **b.health()} for key, b in sorted(self.breakers.items())]

    async def aclose(self) -> None:
        await self.flush()
        for p in self._providers.values():
            await p.aclose()
        self._providers.clear()



async def _traced_complete(provider: Provider, request: ChatRequest, budget: float) -> ChatResult:
    """One provider attempt as an OpenTelemetry CLIENT span, a child of the node's span
    (a no-op unless tracing is configured: docs/operations.md)."""
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind, Status, StatusCode

    with trace.get_tracer("maily").start_as_current_span(
            f"ai.chat {provider.name}", kind=SpanKind.CLIENT, record_exception=False, set_status_on_exception=False,
            attributes={"gen_ai.system": provider.name, "gen_ai.request.model": request.model}) as span:
        try:
            res = await provider.complete(request, budget)
        except BaseException as exc:
            span.set_status(Status(StatusCode.ERROR, str(exc)[:200]))
            raise
        if res.tokens_in is not None:
            span.set_attribute("gen_ai.usage.input_tokens", res.tokens_in)
        if res.tokens_out is not None:
            span.set_attribute("gen_ai.usage.output_tokens", res.tokens_out)
        return res


def make_provider(kind: str, api_key: str, base_url: str | None,
                  allowed_hosts: frozenset[str] = frozenset()) -> Provider:
    if kind == "anthropic":
        # lazy: a provider SDK takes about a second to import; a process loads only the providers its credentials use
        from nodes.ai.providers.anthropic_api import AnthropicProvider

        return AnthropicProvider(api_key, base_url, allowed_hosts=allowed_hosts)
    # lazy: a provider SDK takes about a second to import; a process loads only the providers its credentials use
    from nodes.ai.providers.openai_compat import OpenAIProvider

    return OpenAIProvider(api_key, base_url, name=kind, allowed_hosts=allowed_hosts)


def _info(decision: str, reason: str, tier: str, provider: str, model: str, tokens_in: int, tokens_out: int,
          cost: int, cached: bool, attempts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"decision": decision, "reason": reason, "tier": tier, "provider": provider, "model": model,
            "tokens_in": tokens_in, "tokens_out": tokens_out, "cost": cost / 1_000_000, "cached": cached,
            "attempts": attempts}


def _ai(result: Any, reason: str, tier: str, *args: Any) -> dict[str, Any]:
    return {"result": result, "ai": _info("ai", reason, tier, *args)}


def _baseline(task: Task, reason: str, tier: str, attempts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"result": task.baseline(), "ai": _info("baseline", reason, tier, "offline", "baseline", 0, 0, 0, False, attempts)}


def gateway_of(ctx: NodeContext) -> AIGateway:
    """The run's gateway (NodeServices.ai): the app's, or an offline one in plain engine runs."""
    return ctx.services.ai


def baseline_output(result: Any, reason: str) -> dict[str, Any]:
    """A node's answer when no call is worth making (empty input, no history): same shape."""
    return {"result": result, "ai": _info("baseline", reason, "", "offline", "baseline", 0, 0, 0, False, [])}
