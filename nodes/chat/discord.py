"""chat.discord: executes a Discord webhook (POST {content, username, embeds}).

Discord answers 204, or 200 with the posted message when asked to wait (?wait=true). A rate
limit is 429 with JSON {retry_after (seconds, a float), global} and a Retry-After header; other
refusals are JSON {code, message, errors?}: 10015 Unknown Webhook, 50027 Invalid Webhook Token,
50006 empty message, 50035 invalid form body (its `errors` name the fields).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from nodes.chat.common import (
    ChatConfig, Target, answer_json, chat_spec, post, text_and_items, webhook_credential, webhook_url,
)
from nodes.net import SafeResponse
from nodes.sdk import NodeContext

SPEC = chat_spec(
    "chat.discord", "Discord message",
    "Posts a message (text and embeds) through a Discord webhook. Mentions notify no one unless allowed; "
    "rate limits are waited out up to max_wait_s.",
    "{ok, id, channel_id, message} (id and message with wait on)")

MAX_EMBEDS = 10
_FIELDS = ("content", "embeds", "username", "avatar_url")


class Config(ChatConfig):
    credential: str | None = webhook_credential("Discord")
    content: str = Field(default="", max_length=2000, description="Message text (Discord markdown), up to 2000 "
                                                                  "characters")
    username: str = Field(default="", max_length=80, description="Override the webhook's name")
    avatar_url: str = Field(default="", max_length=2000, description="Override the webhook's avatar")
    embeds: list[dict[str, Any]] | str | None = Field(default=None, description="Up to 10 embed objects: a JSON "
                                                                                "array (or its text)")
    thread_id: str = Field(default="", pattern=r"^[0-9]*$", max_length=32,
                           description="Post in this thread of the webhook's channel")
    wait: bool = Field(default=True, description="Ask Discord to confirm (?wait=true): the output holds the "
                                                 "posted message and its id")
    allow_mentions: bool = Field(default=False, description="Let @everyone, @here, role and user mentions in the "
                                                            "text notify people; off: they show but notify no one")


def _message(config: Config) -> dict[str, Any]:
    body = text_and_items("Discord", "content", config.content, "embeds", config.embeds, MAX_EMBEDS)
    for name in ("username", "avatar_url"):
        if getattr(config, name):
            body[name] = getattr(config, name)
    if not config.allow_mentions:
        body["allowed_mentions"] = {"parse": []}
    return body


def _wait_of(resp: SafeResponse) -> float | None:
    data = answer_json(resp)
    value = data.get("retry_after") if isinstance(data, dict) else None
    return float(value) if isinstance(value, (int, float)) and value >= 0 else None


def _pointer(status: int, data: Any) -> str:
    if status in (401, 403, 404):
        return "/credential"
    errors = data.get("errors") if isinstance(data, dict) else None
    named = [f for f in _FIELDS if isinstance(errors, dict) and f in errors]
    return f"/{named[0]}" if named else "/content"


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    body = _message(config)
    target = Target(await webhook_url(ctx, config.credential), "Discord")
    params = {"wait": "true" if config.wait else None, "thread_id": config.thread_id or None}
    resp = await post(ctx, target, body, config, params=params, wait_of=_wait_of)
    data = answer_json(resp)
    if resp.status < 400:
        message = data if isinstance(data, dict) else None
        return {"output": {"ok": True, "id": message and message.get("id"),
                           "channel_id": message and message.get("channel_id"), "message": message}}
    if isinstance(data, dict) and data.get("message"):
        detail = f"{data['message']} (code {data.get('code')})"
    else:
        detail = resp.text()
    raise target.refused(resp.status, detail, _pointer(resp.status, data))
