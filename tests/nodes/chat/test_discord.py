"""chat.discord against a loopback server speaking Discord's execute-webhook answers."""

from __future__ import annotations

import pytest

from nodes.chat import discord
from nodes.sdk import NodeConfigError, NodeTemporaryError
from tests.nodes.chat.servers import Answer

EMBED = {"title": "Build 42", "description": "All green", "color": 5763719}


def cfg(**kw) -> discord.Config:
    return discord.Config(credential=kw.pop("credential", "discord"), **kw)


async def test_posts_content_username_and_embeds_and_outputs_the_message(chat, chat_ctx):
    """With wait on, Discord gets {content, username, embeds, allowed_mentions} and ?wait=true; the output is the message."""
    app, _ = chat
    out = await discord.execute(chat_ctx(), cfg(content="Build 42 passed @everyone", username="CI", embeds=[EMBED]), {})
    seen = app.seen[0]
    assert seen.query == {"wait": "true"} and "authorization" not in seen.headers
    assert seen.body == {"content": "Build 42 passed @everyone", "username": "CI", "embeds": [EMBED],
                         "allowed_mentions": {"parse": []}}
    assert out["output"]["ok"] is True and out["output"]["id"] == "1180000000000000001"
    assert out["output"]["message"]["author"]["username"] == "CI"


async def test_without_wait_a_204_is_success(chat, chat_ctx):
    """wait off: no query parameter, Discord's 204 gives {ok: true} without an id."""
    app, _ = chat
    out = await discord.execute(chat_ctx(), cfg(content="hi", wait=False), {})
    assert app.seen[0].query == {} and out["output"] == {"ok": True, "id": None, "channel_id": None, "message": None}


async def test_allowed_mentions_and_thread_id(chat, chat_ctx):
    """allow_mentions drops the mention guard; thread_id goes in the query string."""
    app, _ = chat
    await discord.execute(chat_ctx(), cfg(content="hi", allow_mentions=True, thread_id="99887766"), {})
    assert "allowed_mentions" not in app.seen[0].body and app.seen[0].query["thread_id"] == "99887766"


async def test_the_429_bodys_retry_after_is_waited_then_sent_again(chat, chat_ctx):
    """A 429 {retry_after: 0.25, global: false} sleeps the body's (float) seconds and the second send succeeds."""
    app, _ = chat
    app.script.append(Answer(429, {"message": "You are being rate limited.", "retry_after": 0.25, "global": False},
                             {"Retry-After": "1"}))
    ctx = chat_ctx()
    out = await discord.execute(ctx, cfg(content="hi"), {})
    assert ctx.clock.slept == [0.25] and len(app.seen) == 2 and out["output"]["ok"] is True


async def test_a_long_global_rate_limit_is_temporary_with_its_wait(chat, chat_ctx):
    """A 429 asking for 30 s (above max_wait_s 5) fails the attempt temporary with retry_after 30."""
    app, _ = chat
    app.script.append(Answer(429, {"message": "You are being rate limited.", "retry_after": 30.0, "global": True},
                             {"Retry-After": "30"}))
    with pytest.raises(NodeTemporaryError) as err:
        await discord.execute(chat_ctx(), cfg(content="hi", max_wait_s=5), {})
    assert err.value.retry_after == 30.0


@pytest.mark.parametrize("credential, code", [("discord-bad", "50027"), ("discord-gone", "10015")])
async def test_a_bad_or_deleted_webhook_names_the_credential(chat, chat_ctx, credential, code):
    """401 Invalid Webhook Token and 404 Unknown Webhook are config errors at /credential, without the token, sent once."""
    app, _ = chat
    with pytest.raises(NodeConfigError) as err:
        await discord.execute(chat_ctx(), cfg(content="hi", credential=credential), {})
    assert err.value.pointer == "/credential" and code in err.value.message
    assert "MARKER" not in err.value.message and len(app.seen) == 1


async def test_an_invalid_form_body_names_the_field_discord_names(chat, chat_ctx):
    """50035 with errors.embeds points at /embeds."""
    with pytest.raises(NodeConfigError) as err:
        await discord.execute(chat_ctx(), cfg(embeds=[{"color": 1}]), {})
    assert err.value.pointer == "/embeds" and "Invalid Form Body" in err.value.message


async def test_an_empty_message_is_refused_before_sending(chat, chat_ctx):
    """No content and no embeds: a config error at /content; more than 10 embeds: at /embeds; no request."""
    app, _ = chat
    for config, pointer in ((cfg(), "/content"), (cfg(embeds=[EMBED] * 11), "/embeds")):
        with pytest.raises(NodeConfigError) as err:
            await discord.execute(chat_ctx(), config, {})
        assert err.value.pointer == pointer
    assert app.seen == []


async def test_a_server_error_is_temporary(chat, chat_ctx):
    """A 502 is temporary, named without the webhook's token."""
    app, _ = chat
    app.script.append(Answer(502, "bad gateway"))
    with pytest.raises(NodeTemporaryError) as err:
        await discord.execute(chat_ctx(), cfg(content="hi"), {})
    assert "502" in err.value.message and "MARKER" not in err.value.message
