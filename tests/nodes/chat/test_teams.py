"""chat.teams against a loopback server speaking a Workflows webhook's and a legacy connector's answers."""

from __future__ import annotations

import json

import pytest

from nodes.chat import teams
from nodes.sdk import NodeConfigError, NodeTemporaryError
from tests.nodes.chat.servers import ADAPTIVE, Answer

CARD = {"type": "AdaptiveCard", "version": "1.4", "body": [{"type": "TextBlock", "text": "Build 42 passed"}]}


def cfg(**kw) -> teams.Config:
    return teams.Config(credential=kw.pop("credential", "teams"), **kw)


async def test_text_becomes_an_adaptive_card_message(chat, chat_ctx):
    """Title and text are sent as a message with one Adaptive Card attachment; the 202 is success."""
    app, _ = chat
    out = await teams.execute(chat_ctx(), cfg(title="Deploy", text="Build 42 passed"), {})
    body = app.seen[0].body
    assert body["type"] == "message" and body["attachments"][0]["contentType"] == ADAPTIVE
    card = body["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard" and [b["text"] for b in card["body"]] == ["Deploy", "Build 42 passed"]
    assert out == {"output": {"ok": True, "status": 202}}


async def test_a_card_given_as_json_text_is_wrapped(chat, chat_ctx):
    """An Adaptive Card rendered into JSON text is sent as the attachment's content unchanged."""
    app, _ = chat
    await teams.execute(chat_ctx(), cfg(card=json.dumps(CARD)), {})
    assert app.seen[0].body["attachments"][0]["content"] == CARD


async def test_a_message_card_goes_to_a_connector_webhook(chat, chat_ctx):
    """message_card: the connector gets @type MessageCard with summary and text, and answers "1"."""
    app, _ = chat
    out = await teams.execute(chat_ctx(), cfg(credential="teams-old", format="message_card", text="Build 42 passed"), {})
    body = app.seen[0].body
    assert body["@type"] == "MessageCard" and body["text"] == "Build 42 passed" and body["summary"]
    assert out["output"] == {"ok": True, "status": 200}


async def test_a_connector_refusal_inside_a_200_is_a_failure(chat, chat_ctx):
    """200 "delivery failed ... HTTP error 429" is temporary; another delivery failure is a config error."""
    app, _ = chat
    app.script.append(Answer(200, "Webhook message delivery failed with error: Microsoft Teams endpoint returned "
                                  "HTTP error 429 with ContextId tcid=0"))
    with pytest.raises(NodeTemporaryError, match="429"):
        await teams.execute(chat_ctx(), cfg(credential="teams-old", format="message_card", text="hi"), {})
    app.script.append(Answer(200, "Webhook message delivery failed with error: Microsoft Teams endpoint returned "
                                  "HTTP error 400"))
    with pytest.raises(NodeConfigError) as err:
        await teams.execute(chat_ctx(), cfg(credential="teams-old", format="message_card", text="hi"), {})
    assert err.value.pointer == "/text"


async def test_a_connector_400_names_the_card(chat, chat_ctx):
    """A MessageCard without summary or text: the connector's 400 text, at /card."""
    with pytest.raises(NodeConfigError) as err:
        await teams.execute(chat_ctx(), cfg(credential="teams-old", format="message_card",
                                            card={"sections": [{"activityTitle": "x"}]}), {})
    assert err.value.pointer == "/card" and "Summary or Text is required" in err.value.message


async def test_a_bad_signature_names_the_credential(chat, chat_ctx):
    """A 401 from the Workflows webhook is a config error at /credential, without the URL's signature."""
    app, _ = chat
    with pytest.raises(NodeConfigError) as err:
        await teams.execute(chat_ctx(), cfg(credential="teams-bad", text="hi"), {})
    assert err.value.pointer == "/credential" and "authenticated" in err.value.message
    assert "MARKER" not in err.value.message and len(app.seen) == 1


async def test_a_rate_limit_is_waited_out(chat, chat_ctx):
    """A 429 with Retry-After: 2 is slept, then the message is sent again."""
    app, _ = chat
    app.script.append(Answer(429, {"error": {"code": "TooManyRequests"}}, {"Retry-After": "2"}))
    ctx = chat_ctx()
    out = await teams.execute(ctx, cfg(text="hi"), {})
    assert ctx.clock.slept == [2.0] and out["output"]["status"] == 202


async def test_a_card_of_the_other_format_is_refused_before_sending(chat, chat_ctx):
    """A MessageCard under adaptive_card, an Adaptive Card under message_card, or nothing at all: config errors."""
    app, _ = chat
    cases = ((cfg(card={"@type": "MessageCard", "text": "x"}), "/card"),
             (cfg(format="message_card", card=CARD), "/card"), (cfg(), "/text"))
    for config, pointer in cases:
        with pytest.raises(NodeConfigError) as err:
            await teams.execute(chat_ctx(), config, {})
        assert err.value.pointer == pointer
    assert app.seen == []
