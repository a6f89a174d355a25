"""OpenAI and any OpenAI-compatible server (Ollama, vLLM, llama.cpp) through the official
`openai` package: POST {base_url}/chat/completions.

The SDK's own retries are off (max_retries=0): the gateway retries with backoff, honours
Retry-After and feeds the circuit breaker, the same way for every provider.
"""

from __future__ import annotations

from typing import Any

import httpx2
import openai

from nodes.ai.providers.base import ChatRequest, ChatResult, ProviderError, parse_retry_after, refused_address
from nodes.net import guarded_transport

OPENAI_BASE_URL = "https://api.openai.com/v1"


def _error(exc: Exception) -> ProviderError:
    refused = refused_address(exc)
    if refused is not None:
        return refused
    if isinstance(exc, openai.APITimeoutError):
        return ProviderError("timed out", retryable=True)
    if isinstance(exc, openai.APIConnectionError):
        return ProviderError("connection failed", retryable=True)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        retry_after = parse_retry_after(exc.response.headers.get("retry-after"))
        return ProviderError(f"answered {status}", retryable=status == 429 or status >= 500,
                             retry_after=retry_after, status=status)
    # APIResponseValidationError and anything unexpected: a malformed answer is not retried.
    return ProviderError(f"malformed answer ({type(exc).__name__})")


class OpenAIProvider:
    def __init__(self, api_key: str, base_url: str | None = None, *, name: str = "openai",
                 allowed_hosts: frozenset[str] = frozenset()):
        self.name = name
        self.base_url = (base_url or OPENAI_BASE_URL).rstrip("/")
        self.key = f"{name}:{self.base_url}"
        # Local servers accept any key; the SDK refuses an empty one.
        # Every connection and redirect hop passes the SSRF guard, not only the base URL checked by the
        # gateway; trust_env=False so an environment proxy cannot bypass the transport.
        http = openai.DefaultAsyncHttpxClient(transport=guarded_transport(allowed_hosts, httpx2), trust_env=False)
        self._client = openai.AsyncOpenAI(api_key=api_key or "none", base_url=self.base_url, max_retries=0,
                                          http_client=http)

    async def complete(self, request: ChatRequest, timeout_s: float) -> ChatResult:
        params: dict[str, Any] = {
            "model": request.model, "temperature": request.temperature,
            "messages": [{"role": "system", "content": request.system}, {"role": "user", "content": request.prompt}],
        }
        # OpenAI's own API wants max_completion_tokens; compatible servers know max_tokens.
        params["max_completion_tokens" if self.name == "openai" else "max_tokens"] = request.max_tokens
        if request.json_mode:
            params["response_format"] = {"type": "json_object"}
        try:
            resp = await self._client.chat.completions.create(**params, timeout=timeout_s)
        except Exception as exc:  # noqa: BLE001 - bad JSON surfaces as ValueError, not an SDK error
            raise _error(exc) from None
        try:
            text = resp.choices[0].message.content
        except (AttributeError, IndexError, TypeError):
            raise ProviderError("malformed answer (no choices)") from None
        if not isinstance(text, str):
            raise ProviderError("malformed answer (no text)")
        usage = getattr(resp, "usage", None)
        return ChatResult(text=text, model=getattr(resp, "model", "") or request.model,
                          tokens_in=getattr(usage, "prompt_tokens", None),
                          tokens_out=getattr(usage, "completion_tokens", None))

    async def aclose(self) -> None:
        await self._client.close()
