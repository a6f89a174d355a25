"""Property: no string in any header field yields an extra header (or the message is refused)."""

from __future__ import annotations

from email import message_from_bytes, policy

from hypothesis import given, settings, strategies as st

from nodes.email.mime import Outgoing, build_mime
from nodes.sdk import NodeConfigError

_TRICKY = st.sampled_from(["\r", "\n", "\r\n", "=?UTF-8?Q?=0A?=", "=?UTF-8?Q?=0D=0A?=", "=?UTF-8?B?Cg==?=", "Bcc: x@evil.example",
                           ":", ",", "<", ">", "\"", "\x00", "\u2028", "\x85", "=?", "?=", " ", "\t"])
_TEXT = st.lists(st.one_of(_TRICKY, st.text(max_size=12)), max_size=8).map("".join)
_EXPECTED = {"from", "to", "subject", "date", "message-id", "x-campaign", "mime-version", "content-type",
             "content-transfer-encoding", "reply-to", "list-unsubscribe", "list-unsubscribe-post"}


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(["subject", "to", "sender", "reply_to", "header", "name", "unsubscribe"]), value=_TEXT)
def test_no_header_value_adds_a_header(field, value):
    kw = {"key": "r:n:a", "sender": "s@maily.example", "to": "a@example.com", "subject": "hi", "text": "body",
          "headers": {"X-Campaign": "c"}, "unsubscribe_url": "https://maily.example/u"}
    if field == "header":
        kw["headers"] = {"X-Campaign": value}
    elif field == "name":
        kw["to"] = f'"{value}" <a@example.com>'
    elif field == "unsubscribe":
        kw["unsubscribe_url"] = value
    else:
        kw[field] = value
    try:
        raw = build_mime(Outgoing(**kw)).as_bytes()
    except NodeConfigError:
        return  # refused: fine
    parsed = message_from_bytes(raw, policy=policy.SMTP)
    names = [k.lower() for k in parsed.keys()]
    assert set(names) <= _EXPECTED and len(names) == len(set(names)), names
    assert not parsed.get_all("bcc") and not parsed.get_all("cc")
