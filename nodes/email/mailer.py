"""The mail service nodes use: exactly-once sends, suppression, unsubscribe links, rate limits.

Exactly once, per idempotency key (the run lineage's root run, node, item, recipient: nodes/email/send.py):
1. keys already `sent` (by this run or an earlier run of its lineage: a retry, a re-run) are skipped;
2. the sent-log row is claimed only when the provider is about to transmit: for SMTP once a
   connection is in hand and the envelope (MAIL FROM, RCPT TO) accepted, right before DATA
   (a unique key: a second claim sees the first);
3. the message goes out (Resend also gets the key as Idempotency-Key);
4. the row is marked "sent" with the provider's message id.
A send that never started (no connection, a refused envelope, a cancelled step before DATA)
never holds a row, or releases the one it took. A row left in "sending" means the
transmission started and its end is unknown (the process died during DATA, or a timeout
after the request went out): it is resent only to a provider that deduplicates by key
(Resend, the outbox); for the others the message is reported "uncertain" and not resent
until a person decides (backend/email/uncertain.py): a missing mail can be sent again, a
duplicate can't be taken back.

`MemoryMailStore` keeps all of this in the process: it serves tests and graphs run without
the app (the app wires the database store, backend/email/store.py).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Protocol

from limits import parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from nodes.email.mime import Outgoing, build_mime
from nodes.email.providers import Claim, SendFailed, make_provider
from nodes.sdk import NodeConfigError, NodeTemporaryError


class MailStore(Protocol):
    async def provider_config(self, tenant_id: str) -> dict[str, Any] | None: ...
    async def suppressed(self, tenant_id: str, emails: list[str]) -> set[str]: ...
    async def known(self, tenant_id: str, keys: list[str]) -> dict[str, tuple[str, dict | None]]: ...
    async def claim(self, tenant_id: str, key: str, to: str, run_id: str, node_id: str) -> tuple[str, dict | None]: ...
    async def finish(self, tenant_id: str, key: str, result: dict[str, Any]) -> None: ...
    async def release(self, tenant_id: str, key: str) -> None: ...
    async def outbox_add(self, tenant_id: str, run_id: str, node_id: str, msg: Outgoing, raw: str) -> str: ...


@dataclass
class MemoryMailStore:
    provider: dict[str, Any] | None = None
    log: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    suppressions: dict[str, set[str]] = field(default_factory=dict)
    outbox: list[dict[str, Any]] = field(default_factory=list)

    async def provider_config(self, tenant_id: str) -> dict[str, Any] | None:
        return self.provider

    async def suppressed(self, tenant_id: str, emails: list[str]) -> set[str]:
        return self.suppressions.get(tenant_id, set()) & set(emails)

    async def known(self, tenant_id: str, keys: list[str]) -> dict[str, tuple[str, dict | None]]:
        rows = {k: self.log.get((tenant_id, k)) for k in keys}
        return {k: (row["status"], row.get("result")) for k, row in rows.items() if row is not None}

    async def claim(self, tenant_id: str, key: str, to: str, run_id: str, node_id: str) -> tuple[str, dict | None]:
        row = self.log.get((tenant_id, key))
        if row is not None:
            return row["status"], row.get("result")
        self.log[(tenant_id, key)] = {"status": "sending", "to": to}
        return "new", None

    async def finish(self, tenant_id: str, key: str, result: dict[str, Any]) -> None:
        self.log[(tenant_id, key)] = {"status": "sent", "result": result}

    async def release(self, tenant_id: str, key: str) -> None:
        self.log.pop((tenant_id, key), None)

    async def outbox_add(self, tenant_id: str, run_id: str, node_id: str, msg: Outgoing, raw: str) -> str:
        self.outbox.append({"tenant_id": tenant_id, "to": msg.to, "subject": msg.subject, "raw": raw, "key": msg.key})
        return msg.message_id


class UnsubscribeSigner:
    """Signed, stateless unsubscribe tokens: tenant and address, HMAC-SHA256 with the app secret."""

    def __init__(self, secret: str, base_url: str):
        self._key = hashlib.sha256(("maily-unsubscribe:" + secret).encode()).digest()
        self.base_url = base_url.rstrip("/")

    def token(self, tenant_id: str, email: str) -> str:
        body = base64.urlsafe_b64encode(f"{tenant_id}:{email.lower()}".encode()).decode().rstrip("=")
        sig = hmac.new(self._key, body.encode(), hashlib.sha256).digest()[:18]
        return f"{body}.{base64.urlsafe_b64encode(sig).decode()}"

    def url(self, tenant_id: str, email: str) -> str:
        return f"{self.base_url}/api/email/unsubscribe/{self.token(tenant_id, email)}"

    def read(self, token: str) -> tuple[str, str] | None:
        body, _, sig = token.partition(".")
        good = base64.urlsafe_b64encode(hmac.new(self._key, body.encode(), hashlib.sha256).digest()[:18]).decode()
        # Compared as bytes: compare_digest refuses non-ASCII str (a hostile link would be a 500).
        if not sig or not hmac.compare_digest(sig.encode(), good.encode()):
            return None
        try:
            tenant_id, _, email = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return (tenant_id, email) if tenant_id and email else None


class RateLimits:
    """Moving-window limits per tenant and per provider ("100/second"); a send over the limit
    waits for room instead of failing, so a big list is paced, not rejected."""

    def __init__(self, tenant: str = "100/second", providers: dict[str, str] | None = None):
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._tenant = parse(tenant)
        self._providers = {k: parse(v) for k, v in (providers or {}).items()}

    async def _wait(self, item: Any, *ids: str) -> None:
        while not await self._limiter.hit(item, *ids):
            stats = await self._limiter.get_window_stats(item, *ids)
            await asyncio.sleep(min(1.0, max(0.001, stats.reset_time - time.time())))

    async def acquire(self, tenant_id: str, provider: str) -> None:
        await self._wait(self._tenant, "tenant", tenant_id)
        if provider in self._providers:
            await self._wait(self._providers[provider], "provider", provider)


class OutboxProvider:
    """The embedded default: the message is stored, nothing leaves the machine."""

    name = "outbox"
    supports_idempotency = True

    def __init__(self, store: MailStore, tenant_id: str, run_id: str, node_id: str):
        self.store, self.tenant_id, self.run_id, self.node_id = store, tenant_id, run_id, node_id

    async def send(self, msg: Outgoing, claim: Claim | None = None) -> str | None:
        if claim is not None and not await claim():
            return None
        # as_bytes, not as_string: the str generator deep-copies every 8-bit (non-ASCII) part to
        # re-encode it, over half of this call's CPU in a campaign run's profile; the bytes are
        # UTF-8 throughout (8bit parts as is, headers RFC 2047-encoded), so they decode losslessly
        raw = build_mime(msg).as_bytes().decode("utf-8", errors="replace")
        return await self.store.outbox_add(self.tenant_id, self.run_id, self.node_id, msg, raw)

    async def aclose(self) -> None:
        pass


@dataclass
class Mailer:
    store: Any = field(default_factory=MemoryMailStore)
    signer: UnsubscribeSigner = field(default_factory=lambda: UnsubscribeSigner("offline", "http://127.0.0.1:8000"))
    limits: RateLimits = field(default_factory=RateLimits)
    http: Any = None
    allowed_hosts: frozenset[str] = frozenset()
    concurrency: int = 8
    observe: Any = None   # called with each message's result (the app counts them: backend/metrics.py)

    async def aclose(self) -> None:
        """Releases what the store holds (the app's database engine); called at shutdown."""
        close = getattr(self.store, "aclose", None)
        if close is not None:
            await close()

    async def send_batch(self, tenant_id: str, run_id: str, node_id: str, messages: list[Outgoing],
                         use_outbox: bool = False) -> list[dict[str, Any]]:
        config = None if use_outbox else await self.store.provider_config(tenant_id)
        provider = OutboxProvider(self.store, tenant_id, run_id, node_id) if not config \
            else make_provider(config, self.http, self.allowed_hosts)
        blocked = await self.store.suppressed(tenant_id, [m.envelope_to for m in messages])
        # What this run or an earlier run of its lineage already did: no connection is opened for it.
        prior = await self.store.known(tenant_id, [m.key for m in messages])
        gate = asyncio.Semaphore(self.concurrency)
        temporary: list[NodeTemporaryError] = []
        fatal: list[NodeConfigError] = []

        def settled(base: dict[str, Any], state: str, previous: dict | None) -> dict[str, Any] | None:
            if state == "sent":
                return {**base, **(previous or {}), "status": "sent", "duplicate": True}
            if state == "sending" and not provider.supports_idempotency:
                return {**base, "status": "uncertain"}
            return None

        async def one(msg: Outgoing) -> dict[str, Any]:
            base = {"to": msg.to, "key": msg.key, "provider": provider.name}
            if msg.envelope_to in blocked:
                return {**base, "status": "suppressed"}
            known = settled(base, *prior[msg.key]) if msg.key in prior else None
            if known is not None:
                return known
            claimed: list[tuple[str, dict | None]] = []
            claiming: list[bool] = []

            async def claim() -> bool:
                claiming.append(True)   # from here on a cancellation lets the send finish
                state, previous = await self.store.claim(tenant_id, msg.key, msg.envelope_to, run_id, node_id)
                claimed.append((state, previous))
                return settled(base, state, previous) is None

            def owned() -> bool:
                return bool(claimed) and settled(base, *claimed[0]) is None

            async def attempt() -> dict[str, Any]:
                try:
                    message_id = await provider.send(msg, claim)
                except SendFailed as exc:
                    if owned() and not exc.maybe_sent:
                        await self.store.release(tenant_id, msg.key)
                    temporary.append(exc)
                    return {**base, "status": "retrying", "error": exc.message}
                except NodeTemporaryError as exc:
                    if owned():
                        await self.store.release(tenant_id, msg.key)
                    temporary.append(exc)
                    return {**base, "status": "retrying", "error": exc.message}
                except NodeConfigError as exc:
                    if owned():
                        await self.store.release(tenant_id, msg.key)
                    if exc.pointer == "/provider":  # credentials, sender domain: every message would fail
                        fatal.append(exc)
                    return {**base, "status": "failed", "error": exc.message}
                if message_id is None:   # the claim was refused: another run of the lineage has it
                    return settled(base, *claimed[0]) or {**base, "status": "uncertain"}
                result = {**base, "status": "sent", "message_id": message_id}
                await self.store.finish(tenant_id, msg.key, result)
                return result

            async with gate:
                await self.limits.acquire(tenant_id, provider.name)
                return await _finish_once_started(attempt(), claiming)

        tasks = [asyncio.ensure_future(one(m)) for m in messages]
        try:
            # Not gather: cancelled, it returns at its first cancelled child, and closing the
            # provider then would cut the transmissions that are allowed to finish.
            await asyncio.wait(tasks) if tasks else None
        except asyncio.CancelledError:
            for t in tasks:
                t.cancel()
            await asyncio.wait(tasks)
            raise
        finally:
            await provider.aclose() if hasattr(provider, "aclose") else None
        results = [t.result() for t in tasks]
        for r in results if self.observe else ():
            self.observe(r)
        if fatal:
            raise fatal[0]
        if temporary:
            # The step is retried; the messages marked sent above are skipped next time.
            done = sum(r["status"] == "sent" for r in results)
            raise NodeTemporaryError(f"{len(temporary)} of {len(messages)} message(s) must be retried "
                                     f"({done} sent): {temporary[0].message}",
                                     retry_after=max((t.retry_after or 0) for t in temporary) or None)
        return list(results)


async def _finish_once_started(attempt: Awaitable[dict[str, Any]], claiming: list) -> dict[str, Any]:
    """A cancelled step (pause, cancel, the step's timeout) stops a send that has not begun
    its claim (nothing is held, nothing went out); one whose claim has begun is let finish,
    transmission and record (bounded by the provider's own timeout), so its outcome is known
    instead of uncertain; then the cancellation goes on."""
    task = asyncio.ensure_future(attempt)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        if not claiming:
            task.cancel()
        await asyncio.wait([task])
        raise
