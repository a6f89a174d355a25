"""What the chat nodes share: one JSON POST through the SSRF-guarded client that waits out a rate
limit's Retry-After up to a cap, and keeps a webhook URL (itself a secret) out of every message.

A 429 whose wait is at most `max_wait_s` is slept (ctx.clock) and sent again, RATE_LIMIT_RESENDS
times at most; a longer wait, or one more 429, is a NodeTemporaryError carrying the wait, so the
engine retries the node after it (flows/engine.py honours `retry_after`). 5xx answers are
temporary too; the 4xx answers are each service's business (slack.py, discord.py, teams.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

import httpx
from pydantic import Field

from nodes.http.auth import http_client
from nodes.net import SafeResponse, retry_after_s
from nodes.sdk import (
    NodeConfig,
    NodeConfigError,
    NodeContext,
    NodeSpec,
    NodeTemporaryError,
    Port,
    credential_field,
    resolve_credential,
)

WEBHOOK_TYPES = ("webhook_url",)
RATE_LIMIT_RESENDS = 2      # 429s waited out inside one attempt; after that the engine retries
DETAIL_CHARS = 300          # of an error answer quoted in a message


def chat_spec(type_: str, title: str, description: str, output: str) -> NodeSpec:
    """The spec of a chat node: it posts (a side effect no service lets us key, so a repeat posts
    again), two retries, and 60 s an attempt to leave room for waiting out rate limits."""
    return NodeSpec(type=type_, version=1, title=title, category="chat", icon="send", description=description,
                    inputs=(Port("input", "any", "Available to expressions as `input`"),),
                    outputs=(Port("output", "object", output),),
                    side_effects=True, side_effect_kind="unkeyed", default_retries=2, default_timeout_s=60.0)


class ChatConfig(NodeConfig):
    max_wait_s: float = Field(default=10.0, ge=0, le=60,
                              description="A rate limit (429) asking to wait at most this many seconds is waited out "
                                          "and the message sent again; a longer wait fails the attempt as temporary "
                                          "and the node's retries send it after the wait")


def webhook_credential(service: str) -> Any:
    return credential_field(*WEBHOOK_TYPES, description=f"The {service} webhook URL, kept in the vault: "
                                                        "anyone holding the URL can post to the channel")


async def webhook_url(ctx: NodeContext, credential_id: str | None) -> str:
    """The URL of a webhook_url credential (registered with the run's redactor on resolving)."""
    if not credential_id:
        raise NodeConfigError("choose the webhook credential", pointer="/credential")
    cred = await resolve_credential(ctx, credential_id, WEBHOOK_TYPES)
    url = str(cred.fields.get("url") or "")
    if not url:
        raise NodeConfigError(f"credential {credential_id!r} holds no url", pointer="/credential")
    return url


def json_value(value: Any, pointer: str, kind: type) -> Any:
    """A JSON field given as its value or as JSON text (an expression's result); None stays None."""
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            value = json.loads(value)
        except ValueError as e:
            raise NodeConfigError(f"{pointer[1:]} is not valid JSON: {e}", pointer=pointer) from None
    if value is not None and not isinstance(value, kind):
        want = "an array" if kind is list else "an object"
        raise NodeConfigError(f"{pointer[1:]} must be {want}, not {type(value).__name__}", pointer=pointer)
    return value


def text_and_items(service: str, text_name: str, text: str, items_name: str, items: Any, most: int) -> dict[str, Any]:
    """The start of a message body: a text field and a list field (Slack blocks, Discord embeds, read as
    json_value does, at most `most`), whichever are given; one of them is needed."""
    pointer = f"/{items_name}"
    listed = json_value(items, pointer, list)
    if listed and len(listed) > most:
        raise NodeConfigError(f"{service} takes at most {most} {items_name} in a message, not {len(listed)}",
                              pointer=pointer)
    if not text and not listed:
        raise NodeConfigError(f"a {service} message needs {text_name} or {items_name}", pointer=f"/{text_name}")
    return {name: value for name, value in ((text_name, text), (items_name, listed)) if value}


@dataclass(frozen=True)
class Target:
    """Where a message goes. `secret`: the URL came from the vault and is never named; a refused
    address then points at `/credential`, else at `pointer`."""

    url: str
    service: str            # "Slack", "Discord", "Teams": named in messages
    secret: bool = True
    pointer: str = "/credential"

    @property
    def label(self) -> str:
        return f"the {self.service} webhook" if self.secret else self.url

    def hide(self, message: str) -> str:
        if not self.secret:
            return message
        try:
            parsed = httpx.URL(self.url)
            forms = {self.url, str(parsed), parsed.raw_path.decode("ascii", "replace").split("?")[0]}
        except (httpx.InvalidURL, TypeError):
            forms = {self.url}
        for form in sorted((f for f in forms if len(f) > 1), key=len, reverse=True):
            message = message.replace(form, self.label)
        return message

    def refused(self, status: int, detail: str, pointer: str) -> NodeConfigError:
        return NodeConfigError(self.hide(f"{self.label} refused the message ({status}): {detail[:DETAIL_CHARS]}"),
                               pointer=pointer)


async def post(ctx: NodeContext, target: Target, body: Any, config: ChatConfig, *,
               headers: dict[str, str] | None = None, params: dict[str, Any] | None = None,
               wait_of: Callable[[SafeResponse], float | None] | None = None) -> SafeResponse:
    """POST `body` as JSON; 429s waited out as the module says, 5xx raised as temporary.
    `wait_of` reads a service's own wait from a 429 (Discord's `retry_after`); else Retry-After."""
    async with http_client(ctx, config.timeout_s) as client:
        for resend in range(RATE_LIMIT_RESENDS + 1):
            try:
                resp = await client.request("POST", target.url, headers=headers, params=params, json=body)
            except NodeConfigError as e:   # a refused address, a bad URL: named without the secret path
                raise NodeConfigError(target.hide(e.message),
                                      pointer=target.pointer if e.pointer == "/url" else e.pointer) from None
            except NodeTemporaryError as e:
                raise NodeTemporaryError(target.hide(e.message), retry_after=e.retry_after) from None
            if resp.status != 429:
                break
            wait = (wait_of(resp) if wait_of else None)
            if wait is None:
                wait = retry_after_s(resp.headers.get("retry-after"), ctx.clock.now())
            if wait is None or wait > config.max_wait_s or resend == RATE_LIMIT_RESENDS:
                asks = f"; it asks to wait {wait:g} s" if wait is not None else ""
                raise NodeTemporaryError(f"{target.service} is rate limiting (429){asks}", retry_after=wait)
            ctx.log.info("%s rate limit: waiting %.3g s before sending again", target.service, wait)
            await ctx.clock.sleep(wait)
    if resp.status >= 500:
        raise NodeTemporaryError(target.hide(f"{target.label} answered {resp.status}"),
                                 retry_after=retry_after_s(resp.headers.get("retry-after"), ctx.clock.now()))
    return resp


def answer_json(resp: SafeResponse) -> Any:
    """The answer's JSON, or None when it is not JSON."""
    try:
        return json.loads(resp.body_bytes) if resp.body_bytes else None
    except ValueError:
        return None
