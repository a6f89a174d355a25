"""Anthropic through the official `anthropic` package: POST {base_url}/v1/messages.

SDK retries are off for the same reason as in openai_compat.
"""

from __future__ import annotations

import anthropic
import httpx2

from nodes.ai.providers.base import ChatRequest, ChatResult, ProviderError, parse_retry_after, refused_address
from nodes.net import guarded_transport

ANTHROPIC_BASE_URL = "https://api.anthropic.com"


def _error(exc: Exception) -> ProviderError:
    refused = refused_address(exc)
    if refused is not None:
        return refused
    if isinstance(exc, anthropic.APITimeoutError):
        return ProviderError("timed out", retryable=True)
    if isinstance(exc, anthropic.APIConnectionError):
        return ProviderError("connection failed", retryable=True)
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        retry_after = parse_retry_after(exc.response.headers.get("retry-after"))
        # 529 "overloaded" is Anthropic's own retryable status.
        return ProviderError(f"answered {status}", retryable=status == 429 or status >= 500,
                             retry_after=retry_after, status=status)
    return ProviderError(f"malformed answer ({type(exc).__name__})")


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, api_key: str, base_url: str | None = None, *, allowed_hosts: frozenset[str] = frozenset()):
        self.base_url = (base_url or ANTHROPIC_BASE_URL).rstrip("/")
        self.key = f"anthropic:{self.base_url}"
        # Every connection and redirect hop passes the SSRF guard (see openai_compat).
        http = anthropic.DefaultAsyncHttpxClient(transport=guarded_transport(allowed_hosts, httpx2), trust_env=False)
        self._client = anthropic.AsyncAnthropic(api_key=api_key or "none", base_url=self.base_url, max_retries=0,
                                                http_client=http)

    async def complete(self, request: ChatRequest, timeout_s: float) -> ChatResult:
        system = request.system + ("\nAnswer with one JSON object only." if request.json_mode else "")
        try:
            resp = await self._client.messages.create(
                # No temperature: this SDK (and current Claude models) no longer take sampling params.
                model=request.model, max_tokens=request.max_tokens, system=system, messages=[{"role": "user", "content": request.prompt}], timeout=timeout_s)
        except Exception as exc:  # noqa: BLE001 - bad JSON surfaces as ValueError, not an SDK error
            raise _error(exc) from None
        try:
            text = "".join(b.text for b in resp.content if getattr(b, "type", "") == "text")
        except (AttributeError, TypeError):
            raise ProviderError("malformed answer (no content)") from None
        usage = getattr(resp, "usage", None)
        return ChatResult(text=text, model=getattr(resp, "model", "") or request.model,
                          tokens_in=getattr(usage, "input_tokens", None),
                          tokens_out=getattr(usage, "output_tokens", None))

    async def aclose(self) -> None:
        await self._client.close()
