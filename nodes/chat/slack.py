"""chat.slack: posts a message with a bot token (Web API chat.postMessage) or to an incoming webhook.

Slack answers a Web API failure with HTTP 200 and {"ok": false, "error": "<code>"}; the code
decides which field the failure names (or that it is temporary). Incoming webhooks answer the
text "ok", or 400/403/404/410 with a code as text ("invalid_payload", "no_service"...).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from nodes.chat.common import ChatConfig, Target, answer_json, chat_spec, post, text_and_items, webhook_url
from nodes.net import SafeResponse
from nodes.sdk import NodeConfigError, NodeContext, NodeTemporaryError, credential_field, resolve_credential

SPEC = chat_spec(
    "chat.slack", "Slack message",
    "Posts a message to Slack: with a bot token through the Web API (chat.postMessage: channel, thread), or "
    "to an incoming webhook. Rate limits are waited out up to max_wait_s.",
    "api: {ok, channel, ts, message}; webhook: {ok}")

MAX_BLOCKS = 50
# Web API error codes -> the config field they are about; TEMPORARY ones are retried.
_POINTERS = {
    "/credential": {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive",
                    "missing_scope", "not_allowed_token_type", "no_permission", "team_access_not_granted",
                    "ekm_access_denied"},
    "/channel": {"channel_not_found", "not_in_channel", "is_archived", "restricted_action",
                 "restricted_action_read_only_channel", "restricted_action_thread_only_channel"},
    "/thread_ts": {"thread_not_found", "cannot_reply_to_message"},
    "/text": {"no_text", "msg_too_long", "msg_blocks_too_long"},
    "/blocks": {"invalid_blocks", "invalid_blocks_format", "too_many_attachments"},
}
_TEMPORARY = {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited",
              "team_added_to_org"}
# Incoming-webhook error texts -> the field they are about (others: the webhook itself, /credential).
_WEBHOOK_POINTERS = {"invalid_payload": "/blocks", "no_text": "/text", "too_many_attachments": "/blocks"}


class Config(ChatConfig):
    mode: Literal["api", "webhook"] = Field(default="api", description="api: a bot token and chat.postMessage; "
                                            "webhook: an incoming webhook URL (posts to its own channel)")
    credential: str | None = credential_field(
        "bearer", "webhook_url", description="api: a bearer credential holding the bot token (xoxb-...); "
                                             "webhook: a webhook_url credential")
    channel: str = Field(default="", max_length=200, description="api: the channel ID (C0123ABC) or #name")
    text: str = Field(default="", max_length=40_000, description="Message text (mrkdwn); with blocks, the "
                                                                 "notification's fallback text")
    blocks: list[dict[str, Any]] | str | None = Field(default=None, description="Block Kit blocks: a JSON array "
                                                                                "(or its text)")
    thread_ts: str = Field(default="", max_length=64, description="Reply in the thread of this message ts")
    base_url: str = Field(default="https://slack.com/api", min_length=1, max_length=2000,
                          description="api: the Web API base URL")


def _message(config: Config) -> dict[str, Any]:
    body = text_and_items("Slack", "text", config.text, "blocks", config.blocks, MAX_BLOCKS)
    if config.thread_ts:
        body["thread_ts"] = config.thread_ts
    return body


def _api_result(resp: SafeResponse, config: Config, target: Target) -> dict[str, Any]:
    data = answer_json(resp)
    if not isinstance(data, dict):
        raise target.refused(resp.status, resp.text(), "/base_url")
    if data.get("ok") is True:
        return {"ok": True, "channel": data.get("channel"), "ts": data.get("ts"), "message": data.get("message")}
    code = str(data.get("error") or f"HTTP {resp.status}")
    if code in _TEMPORARY:
        raise NodeTemporaryError(f"Slack chat.postMessage failed for now: {code}")
    pointer = next((p for p, codes in _POINTERS.items() if code in codes), "")
    if pointer == "/credential":
        raise NodeConfigError(f"Slack refused the token of credential {config.credential!r}: {code}",
                              pointer=pointer)
    if pointer == "/channel":
        raise NodeConfigError(f"Slack cannot post to channel {config.channel!r}: {code}", pointer=pointer)
    raise NodeConfigError(f"Slack chat.postMessage failed: {code}", pointer=pointer)


async def _api(ctx: NodeContext, config: Config, body: dict[str, Any]) -> dict[str, Any]:
    if not config.channel:
        raise NodeConfigError("the Web API needs a channel", pointer="/channel")
    if not config.credential:
        raise NodeConfigError("choose the bot token's credential", pointer="/credential")
    cred = await resolve_credential(ctx, config.credential, ("bearer",))
    target = Target(f"{config.base_url.rstrip('/')}/chat.postMessage", "Slack", secret=False, pointer="/base_url")
    headers = {"Authorization": f"Bearer {cred.fields['token']}", "Content-Type": "application/json; charset=utf-8"}
    resp = await post(ctx, target, {"channel": config.channel, **body}, config, headers=headers)
    return _api_result(resp, config, target)


async def _webhook(ctx: NodeContext, config: Config, body: dict[str, Any]) -> dict[str, Any]:
    target = Target(await webhook_url(ctx, config.credential), "Slack")
    resp = await post(ctx, target, body, config)
    if resp.status < 400:
        return {"ok": True}
    code = resp.text().strip()
    raise target.refused(resp.status, code, _WEBHOOK_POINTERS.get(code, "/credential"))


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    body = _message(config)
    out = await (_api(ctx, config, body) if config.mode == "api" else _webhook(ctx, config, body))
    return {"output": out}
