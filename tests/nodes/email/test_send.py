"""email.compose and email.send against a real SMTP server and loopback provider APIs."""

from __future__ import annotations

import pytest

from nodes.email import compose, send
from nodes.sdk import NodeConfigError, NodeTemporaryError

HTML = """<html><head><style>.hi{color:#c00}</style></head><body>
<p class="hi">Hello {{ recipient.name }}, {{ product }}!</p>
<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p><p>1 Main Street, Springfield 12345</p></body></html>"""


async def _message(make_ctx, **cfg):
    config = compose.Config(subject=cfg.pop("subject", "News for {{ recipient.name }}"), html=cfg.pop("html", HTML),
                            data=cfg.pop("data", {"product": "<Maily>"}), **cfg)
    return (await compose.execute(make_ctx(), config, {}))["output"]


async def _send(make_ctx, mailer, message, to, run_id="run-1", **cfg):
    ctx = make_ctx(services={"mailer": mailer})
    ctx.run_id, ctx.tenant_id = run_id, "t1"
    config = send.Config(sender="Shop <shop@maily.example>", to=to, **cfg)
    return (await send.execute(ctx, config, {"message": message}))["output"]


async def test_compose_escapes_inlines_css_and_makes_a_text_part(make_ctx):
    msg = await _message(make_ctx)
    assert "&lt;Maily&gt;" in msg["html"] and "<Maily>" not in msg["html"]
    assert 'style="color: #c00;"' in msg["html"] and "<style" not in msg["html"]
    assert "Hello {{ recipient.name }}, <Maily>!" in msg["text"]       # placeholder until send
    assert msg["subject"] == "News for {{ recipient.name }}"


async def test_compose_template_limits_are_node_errors(make_ctx):
    with pytest.raises(NodeConfigError):
        await _message(make_ctx, html="{% for i in range(10**6) %}{% for j in range(10**6) %}x{% endfor %}{% endfor %}")
    with pytest.raises(NodeConfigError):
        await _message(make_ctx, html="{{ ''.__class__.__mro__ }}")


async def test_smtp_send_reaches_the_server_with_parts_and_unsubscribe_headers(make_ctx, mailer_for, smtp_server):
    mailer = mailer_for({"kind": "smtp", "host": "127.0.0.1", "port": smtp_server.port, "security": "none"})
    msg = await _message(make_ctx)
    out = await _send(make_ctx, mailer, msg, [{"email": "ann@example.com", "name": "Ann"}, "bob@example.com"])
    assert out["sent"] == 2
    got = {m["to"][0]: m["message"] for m in smtp_server.messages}
    ann = got["ann@example.com"]
    assert ann["Subject"] == "News for Ann" and ann["To"] == "Ann <ann@example.com>"
    assert ann["List-Unsubscribe"].startswith("<https://maily.example/api/email/unsubscribe/")
    assert ann["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert ann.get_content_type() == "multipart/alternative"
    html = ann.get_body(("html",)).get_content()
    assert "Hello Ann, &lt;Maily&gt;!" in html and ann["List-Unsubscribe"][1:-1] in html
    assert "Hello Ann" in ann.get_body(("plain",)).get_content()


async def test_a_retried_step_sends_nothing_twice(make_ctx, mailer_for, smtp_server):
    mailer = mailer_for({"kind": "smtp", "host": "127.0.0.1", "port": smtp_server.port, "security": "none"})
    msg = await _message(make_ctx)
    first = await _send(make_ctx, mailer, msg, ["a@example.com", "b@example.com"])
    again = await _send(make_ctx, mailer, msg, ["a@example.com", "b@example.com", "c@example.com"])
    assert first["sent"] == 2 and again["sent"] == 3
    assert sorted(m["to"][0] for m in smtp_server.messages) == ["a@example.com", "b@example.com", "c@example.com"]
    assert [r.get("duplicate", False) for r in again["results"]] == [True, True, False]


@pytest.mark.parametrize("kind", ["resend", "sendgrid", "mailgun"])
async def test_http_providers_retry_429_and_5xx_and_deliver_exactly_once(kind, make_ctx, mailer_for, provider_api):
    mailer = mailer_for({"kind": kind, "api_key": provider_api.key, "base_url": provider_api.url, "domain": "mg.example"})
    msg = await _message(make_ctx)
    provider_api.fail_next = [429]
    with pytest.raises(NodeTemporaryError):
        await _send(make_ctx, mailer, msg, ["a@example.com", "b@example.com"])
    delivered = len(provider_api.deliveries)
    assert delivered == 1                          # one of the two got through
    provider_api.fail_next = [503]
    outcome = None
    for _attempt in range(3):                      # what the engine's retries do
        try:
            outcome = await _send(make_ctx, mailer, msg, ["a@example.com", "b@example.com"])
            break
        except NodeTemporaryError:
            continue
    assert outcome is not None and outcome["sent"] == 2
    assert sorted(d["to"][0] for d in provider_api.deliveries) == ["a@example.com", "b@example.com"]
    d = provider_api.deliveries[0]
    if kind == "resend":
        assert d["headers"]["Idempotency-Key"] == f"run-1:n1:-:{d['to'][0]}"
        assert d["doc"]["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    if kind == "sendgrid":
        assert d["doc"]["content"][0]["type"] == "text/plain" and d["doc"]["from"]["name"] == "Shop"
    if kind == "mailgun":
        assert d["domain"] == "mg.example" and d["doc"]["h:List-Unsubscribe-Post"] == ["List-Unsubscribe=One-Click"]


async def test_resend_gets_the_same_idempotency_key_when_a_send_is_uncertain(make_ctx, mailer_for, provider_api):
    mailer = mailer_for({"kind": "resend", "api_key": provider_api.key, "base_url": provider_api.url})
    msg = await _message(make_ctx)
    # the process died after claiming: the row says "sending"; Resend deduplicates by key, so resend
    await mailer.store.claim("t1", "run-1:n1:-:a@example.com", "a@example.com", "run-1", "n1")
    out = await _send(make_ctx, mailer, msg, ["a@example.com"])
    assert out["sent"] == 1 and len(provider_api.deliveries) == 1


async def test_an_uncertain_smtp_send_is_not_repeated(make_ctx, mailer_for, smtp_server):
    mailer = mailer_for({"kind": "smtp", "host": "127.0.0.1", "port": smtp_server.port, "security": "none"})
    await mailer.store.claim("t1", "run-1:n1:-:a@example.com", "a@example.com", "run-1", "n1")
    out = await _send(make_ctx, mailer, await _message(make_ctx), ["a@example.com"])
    assert out["uncertain"] == 1 and smtp_server.messages == []


async def test_suppressed_addresses_are_skipped(make_ctx, mailer_for, smtp_server):
    mailer = mailer_for({"kind": "smtp", "host": "127.0.0.1", "port": smtp_server.port, "security": "none"})
    mailer.store.suppressions["t1"] = {"b@example.com"}
    out = await _send(make_ctx, mailer, await _message(make_ctx), ["a@example.com", "B@example.com"])
    assert out["sent"] == 1 and out["suppressed"] == 1
    assert [m["to"] for m in smtp_server.messages] == [["a@example.com"]]


async def test_smtp_auth_and_wrong_password(make_ctx, mailer_for):
    with SmtpAuth() as server:
        cfg = {"kind": "smtp", "host": "127.0.0.1", "port": server.port, "security": "none", "username": "u"}
        ok = await _send(make_ctx, mailer_for({**cfg, "password": "p"}), await _message(make_ctx), "a@example.com")
        assert ok["sent"] == 1
        with pytest.raises(NodeConfigError):
            await _send(make_ctx, mailer_for({**cfg, "password": "wrong"}), await _message(make_ctx), "a@example.com",
                        run_id="run-2")


def SmtpAuth():
    from tests.nodes.email.servers import SmtpServer
    return SmtpServer(auth=("u", "p"))


async def test_no_provider_goes_to_the_outbox(make_ctx, mailer_for):
    mailer = mailer_for(None)
    out = await _send(make_ctx, mailer, await _message(make_ctx), "a@example.com")
    assert out["sent"] == 1 and out["results"][0]["provider"] == "outbox"
    assert "Subject: News for" in mailer.store.outbox[0]["raw"]


async def test_the_outbox_keeps_non_ascii_text_readable_and_parseable(make_ctx, mailer_for):
    """A message with non-ASCII text is stored as UTF-8 text (8bit parts, as sent over SMTP) that,
    read as UTF-8 bytes, parses back to the same content."""
    import email
    from email import policy

    mailer = mailer_for(None)
    msg = await _message(make_ctx, subject="Grüße für {{ recipient.name }} ✓", html="<p>Café — naïve ✓</p>")
    await _send(make_ctx, mailer, msg, "Zoë <zoe@example.com>")
    raw = mailer.store.outbox[0]["raw"]
    assert "Café — naïve ✓" in raw                                       # readable as stored
    parsed = email.message_from_bytes(raw.encode("utf-8"), policy=policy.default)
    assert parsed["Subject"].startswith("Grüße für") and parsed["Subject"].endswith("✓")
    assert "Café — naïve ✓" in parsed.get_body(("html",)).get_content()
    assert "Café — naïve ✓" in parsed.get_body(("plain",)).get_content()


@pytest.mark.parametrize("to", ["a@example.com, b@evil.example", "a@example.com\r\nBcc: x@evil.example",
                                "a@example.com b@evil.example", "Ann <a@example.com>, b@evil.example"])
async def test_one_address_per_recipient(make_ctx, mailer_for, to):
    with pytest.raises(NodeConfigError):
        await _send(make_ctx, mailer_for(None), await _message(make_ctx), to)


@pytest.mark.parametrize("subject", ["Hi =?UTF-8?Q?=0ABcc:_x@evil.example?=", "Hi\r\nBcc: x@evil.example",
                                     "Hi =?UTF-8?B?DQpCY2M6IHhAZXZpbC5leGFtcGxl?="])
async def test_header_injection_is_refused(make_ctx, mailer_for, subject):
    with pytest.raises(NodeConfigError):
        msg = await _message(make_ctx, subject=subject)
        await _send(make_ctx, mailer_for(None), msg, "a@example.com")
