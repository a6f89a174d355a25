"""One interface for every model provider: a chat request in, text and token counts out.

Providers raise ProviderError; `retryable` marks what is worth another attempt (429, 5xx,
timeouts, connection failures). No provider is ever given tools or function definitions:
node inputs are data, so nothing in a prompt can make a node call a tool or fetch a URL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from nodes.net import BlockedAddressError


@dataclass(frozen=True)
class ChatRequest:
    model: str
    system: str
    prompt: str
    max_tokens: int = 512
    temperature: float = 0.0
    # Asks for a JSON object back (OpenAI response_format; a system instruction elsewhere).
    json_mode: bool = False

    def cache_fields(self) -> dict[str, Any]:
        return {"model": self.model, "system": self.system, "prompt": self.prompt, "max_tokens": self.max_tokens,
                "temperature": self.temperature, "json_mode": self.json_mode}


@dataclass
class ChatResult:
    text: str
    tokens_in: int | None = None      # None: the provider did not say; the gateway estimates
    tokens_out: int | None = None
    model: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


class ProviderError(Exception):
    def __init__(self, message: str, *, retryable: bool = False, retry_after: float | None = None,
                 status: int | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status


class Provider(Protocol):
    name: str            # "openai", "anthropic", "compatible", "offline"
    key: str             # identity for the circuit breaker and the cache (name + base URL)

    async def complete(self, request: ChatRequest, timeout_s: float) -> ChatResult: ...

    async def aclose(self) -> None: ...


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime
    from datetime import datetime, timezone

    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return None


def refused_address(exc: BaseException) -> ProviderError | None:
    """The SDKs wrap a transport error in their connection error: a BlockedAddressError from the
    guarded transport (nodes.net.GuardedTransport) is a refusal, not worth another attempt."""
    seen = exc
    while seen is not None:
        if isinstance(seen, BlockedAddressError):
            return ProviderError(f"address refused: {seen}")
        seen = seen.__cause__ or seen.__context__
    return None
