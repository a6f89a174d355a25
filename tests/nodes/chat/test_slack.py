"""chat.slack against a loopback server speaking Slack's Web API and incoming-webhook answers."""

from __future__ import annotations

import json

import pytest

from nodes.chat import slack
from nodes.chat.common import RATE_LIMIT_RESENDS
from nodes.sdk import NodeConfigError, NodeTemporaryError
from tests.nodes.chat.servers import HANG, SLACK_CHANNEL, SLACK_TOKEN, Answer

BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Deploy* finished"}}]


def api(base: str, **kw) -> slack.Config:
    return slack.Config(mode="api", credential="slack-bot", channel=SLACK_CHANNEL, base_url=f"{base}/slack/api", **kw)


def hook(**kw) -> slack.Config:
    return slack.Config(mode="webhook", credential=kw.pop("credential", "slack-hook"), **kw)


class TestWebApi:
    async def test_posts_the_documented_json_with_the_bot_token(self, chat, chat_ctx):
        """chat.postMessage receives channel, text, blocks and thread_ts as JSON with the Bearer token."""
        app, base = chat
        out = await slack.execute(chat_ctx(), api(base, text="Deploy finished", blocks=BLOCKS,
                                                  thread_ts="1699999999.000100"), {})
        seen = app.seen[0]
        assert seen.headers["authorization"] == f"Bearer {SLACK_TOKEN}"
        assert seen.headers["content-type"].startswith("application/json")
        assert seen.body == {"channel": SLACK_CHANNEL, "text": "Deploy finished", "blocks": BLOCKS,
                             "thread_ts": "1699999999.000100"}
        assert out["output"]["ok"] is True and out["output"]["channel"] == SLACK_CHANNEL
        assert out["output"]["ts"] == "1700000000.000200" and out["output"]["message"]["thread_ts"] == "1699999999.000100"

    async def test_blocks_given_as_json_text_are_sent_as_an_array(self, chat, chat_ctx):
        """Blocks rendered by an expression into JSON text reach Slack as the array they denote."""
        app, base = chat
        await slack.execute(chat_ctx(), api(base, blocks=json.dumps(BLOCKS)), {})
        assert app.seen[0].body["blocks"] == BLOCKS and "text" not in app.seen[0].body

    async def test_a_refused_token_names_the_credential_without_the_token(self, chat, chat_ctx):
        """ok:false invalid_auth is a config error at /credential, not retried, the token in no message."""
        app, base = chat
        with pytest.raises(NodeConfigError) as err:
            await slack.execute(chat_ctx(), api(base, text="hi").model_copy(update={"credential": "slack-bad"}), {})
        assert err.value.pointer == "/credential" and "invalid_auth" in err.value.message
        assert "slack-bad" in err.value.message and "xoxb" not in err.value.message
        assert len(app.seen) == 1

    async def test_an_unknown_channel_is_permanent_and_names_channel(self, chat, chat_ctx):
        """channel_not_found fails at /channel after a single request."""
        app, base = chat
        with pytest.raises(NodeConfigError) as err:
            await slack.execute(chat_ctx(), api(base, text="hi").model_copy(update={"channel": "C999"}), {})
        assert err.value.pointer == "/channel" and "channel_not_found" in err.value.message
        assert len(app.seen) == 1

    async def test_a_slack_internal_error_is_temporary(self, chat, chat_ctx):
        """ok:false internal_error is a temporary failure the engine retries."""
        app, base = chat
        app.script.append(Answer(200, {"ok": False, "error": "internal_error"}))
        with pytest.raises(NodeTemporaryError, match="internal_error"):
            await slack.execute(chat_ctx(), api(base, text="hi"), {})

    async def test_a_rate_limit_is_waited_out_then_the_message_is_sent(self, chat, chat_ctx):
        """HTTP 429 with Retry-After: 3 sleeps 3 s on the clock and sends again, which succeeds."""
        app, base = chat
        app.script.append(Answer(429, "", {"Retry-After": "3"}))
        ctx = chat_ctx()
        out = await slack.execute(ctx, api(base, text="hi"), {})
        assert ctx.clock.slept == [3.0] and len(app.seen) == 2 and out["output"]["ok"] is True

    async def test_a_wait_beyond_the_cap_is_left_to_the_engine(self, chat, chat_ctx):
        """A Retry-After above max_wait_s is not slept: the attempt fails temporary, carrying the wait."""
        app, base = chat
        app.script.append(Answer(429, "", {"Retry-After": "120"}))
        ctx = chat_ctx()
        with pytest.raises(NodeTemporaryError) as err:
            await slack.execute(ctx, api(base, text="hi", max_wait_s=10), {})
        assert err.value.retry_after == 120 and ctx.clock.slept == [] and len(app.seen) == 1

    async def test_rate_limits_in_a_row_stop_after_the_bounded_resends(self, chat, chat_ctx):
        """Every answer a 429: the node sends RATE_LIMIT_RESENDS more times, then fails temporary."""
        app, base = chat
        app.script.extend([Answer(429, "", {"Retry-After": "1"})] * (RATE_LIMIT_RESENDS + 2))
        ctx = chat_ctx()
        with pytest.raises(NodeTemporaryError, match="rate limiting"):
            await slack.execute(ctx, api(base, text="hi"), {})
        assert len(app.seen) == RATE_LIMIT_RESENDS + 1 and ctx.clock.slept == [1.0] * RATE_LIMIT_RESENDS

    async def test_a_message_without_text_or_blocks_is_refused_before_sending(self, chat, chat_ctx):
        """No text and no blocks: a config error at /text and no request."""
        app, base = chat
        with pytest.raises(NodeConfigError) as err:
            await slack.execute(chat_ctx(), api(base), {})
        assert err.value.pointer == "/text" and app.seen == []

    async def test_blocks_that_are_not_an_array_name_blocks(self, chat, chat_ctx):
        """Blocks JSON text denoting an object (or not JSON at all) is a config error at /blocks."""
        _, base = chat
        for blocks in ('{"type": "section"}', "[not json"):
            with pytest.raises(NodeConfigError) as err:
                await slack.execute(chat_ctx(), api(base, blocks=blocks), {})
            assert err.value.pointer == "/blocks"

    async def test_a_base_url_on_a_private_address_is_refused_at_base_url(self, chat, chat_ctx):
        """The Web API base URL passes the address guard: a private address fails at /base_url, sending nothing."""
        app, _ = chat
        with pytest.raises(NodeConfigError) as err:
            await slack.execute(chat_ctx(), api("http://10.11.12.13", text="hi"), {})
        assert err.value.pointer == "/base_url" and "private" in err.value.message and app.seen == []

    async def test_a_webhook_credential_is_refused_in_api_mode(self, chat, chat_ctx):
        """The Web API takes a bearer credential: a webhook_url one fails at /credential before any request."""
        app, base = chat
        with pytest.raises(NodeConfigError) as err:
            await slack.execute(chat_ctx(), api(base, text="hi").model_copy(update={"credential": "slack-hook"}), {})
        assert err.value.pointer == "/credential" and app.seen == []


class TestIncomingWebhook:
    async def test_posts_text_and_blocks_to_the_webhook(self, chat, chat_ctx):
        """The webhook receives {text, blocks}; its "ok" answer is the output {ok: true}."""
        app, _ = chat
        out = await slack.execute(chat_ctx(), hook(text="Deploy finished", blocks=BLOCKS), {})
        assert app.seen[0].body == {"text": "Deploy finished", "blocks": BLOCKS}
        assert "authorization" not in app.seen[0].headers
        assert out == {"output": {"ok": True}}

    async def test_a_deleted_webhook_names_the_credential_not_its_url(self, chat, chat_ctx):
        """404 no_service is a config error at /credential whose message does not hold the secret path."""
        app, _ = chat
        with pytest.raises(NodeConfigError) as err:
            await slack.execute(chat_ctx(), hook(text="hi", credential="slack-gone"), {})
        assert err.value.pointer == "/credential" and "no_service" in err.value.message
        assert "MARKER" not in err.value.message and len(app.seen) == 1

    async def test_an_invalid_payload_names_blocks(self, chat, chat_ctx):
        """400 invalid_payload (malformed blocks) points at /blocks."""
        app, _ = chat
        app.script.append(Answer(400, "invalid_payload"))
        with pytest.raises(NodeConfigError) as err:
            await slack.execute(chat_ctx(), hook(blocks=BLOCKS), {})
        assert err.value.pointer == "/blocks"

    async def test_a_timeout_is_temporary_and_keeps_the_url_secret(self, chat, chat_ctx):
        """A webhook that does not answer in time is a temporary failure without the URL in its message."""
        app, _ = chat
        app.script.append(HANG)
        with pytest.raises(NodeTemporaryError) as err:
            await slack.execute(chat_ctx(timeout_s=0.3), hook(text="hi"), {})
        assert "MARKER" not in err.value.message and "Slack webhook" in err.value.message

    async def test_a_server_error_is_temporary(self, chat, chat_ctx):
        """A 500 from the webhook is temporary (retried by the engine), without the URL."""
        app, _ = chat
        app.script.append(Answer(500, "rollup_error"))
        with pytest.raises(NodeTemporaryError) as err:
            await slack.execute(chat_ctx(), hook(text="hi"), {})
        assert "500" in err.value.message and "MARKER" not in err.value.message
