"""chat.teams: posts a card to a Microsoft Teams webhook.

Two kinds of webhook: a Workflows (Power Automate) webhook takes a message whose attachment is
an Adaptive Card and answers 202; a legacy Office 365 connector takes a MessageCard and answers
200 "1" - or 200 with "Webhook message delivery failed with error: ..." when Teams refused it
(a 429 inside that text is Teams rate limiting).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from nodes.chat.common import (
    ChatConfig, Target, answer_json, chat_spec, json_value, post, webhook_credential, webhook_url,
)
from nodes.sdk import NodeConfigError, NodeContext, NodeTemporaryError

SPEC = chat_spec(
    "chat.teams", "Teams message",
    "Posts text or a card to a Microsoft Teams channel through a Workflows webhook (Adaptive Card) or a legacy "
    "connector webhook (MessageCard). Rate limits are waited out up to max_wait_s.",
    "{ok, status}")

ADAPTIVE = "application/vnd.microsoft.card.adaptive"
_FAILED = "delivery failed"


class Config(ChatConfig):
    credential: str | None = webhook_credential("Teams")
    format: Literal["adaptive_card", "message_card"] = Field(
        default="adaptive_card", description="adaptive_card: a Workflows (Power Automate) webhook; message_card: a "
                                             "legacy Office 365 connector webhook")
    title: str = Field(default="", max_length=500, description="A heading above the text (when no card is given)")
    text: str = Field(default="", max_length=28_000, description="The message text (when no card is given)")
    card: dict[str, Any] | str | None = Field(
        default=None, description="The card JSON (or its text): an Adaptive Card {\"type\": \"AdaptiveCard\", ...} "
                                  "or a MessageCard {\"@type\": \"MessageCard\", ...}; without it one is built "
                                  "from title and text")


def _adaptive(config: Config, card: dict[str, Any] | None) -> dict[str, Any]:
    if card is not None and card.get("type") == "message":   # already the whole message
        return card
    if card is None:
        body = [{"type": "TextBlock", "text": config.title, "weight": "Bolder", "size": "Medium", "wrap": True}
                ] if config.title else []
        body += [{"type": "TextBlock", "text": config.text, "wrap": True}] if config.text else []
        card = {"type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "version": "1.4", "body": body}
    elif card.get("type") != "AdaptiveCard":
        raise NodeConfigError("an Adaptive Card has \"type\": \"AdaptiveCard\" (for a MessageCard choose the "
                              "message_card format)", pointer="/card")
    return {"type": "message", "attachments": [{"contentType": ADAPTIVE, "contentUrl": None, "content": card}]}


def _message_card(config: Config, card: dict[str, Any] | None) -> dict[str, Any]:
    if card is None:
        card = {"summary": (config.title or config.text)[:200], "text": config.text}
        if config.title:
            card["title"] = config.title
    elif card.get("type") == "AdaptiveCard":
        raise NodeConfigError("this is an Adaptive Card: choose the adaptive_card format", pointer="/card")
    return {"@type": "MessageCard", "@context": "https://schema.org/extensions", **card}


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    card = json_value(config.card, "/card", dict)
    if card is None and not (config.text or config.title):
        raise NodeConfigError("a Teams message needs text or a card", pointer="/text")
    body = _adaptive(config, card) if config.format == "adaptive_card" else _message_card(config, card)
    target = Target(await webhook_url(ctx, config.credential), "Teams")
    resp = await post(ctx, target, body, config)
    pointer = "/card" if card is not None else "/text"
    text = resp.text()
    if resp.status < 400:
        if _FAILED not in text:
            return {"output": {"ok": True, "status": resp.status}}
        if "HTTP error 429" in text:
            raise NodeTemporaryError("Teams is rate limiting this webhook (its answer names HTTP error 429)")
        raise target.refused(resp.status, text, pointer)
    data = answer_json(resp)
    error = data.get("error") if isinstance(data, dict) else None
    detail = str(error.get("message") or error.get("code")) if isinstance(error, dict) else text
    raise target.refused(resp.status, detail, "/credential" if resp.status in (401, 403, 404) else pointer)
