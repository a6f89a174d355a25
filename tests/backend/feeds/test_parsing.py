"""Parsing for the polling triggers: Atom feeds and items without ids get stable keys, and a
MIME message becomes the payload plus its attachments."""

from email.message import EmailMessage

import pytest

from backend.feeds.imap import parse_message
from backend.feeds.rss import parse
from nodes.errors import NodeConfigError

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom test</title><link href="https://example.org/"/>
<entry><title>Second</title><id>tag:example.org,2026:2</id><link href="https://example.org/2"/>
<updated>2026-02-02T10:00:00Z</updated><summary>two</summary><author><name>Ada</name></author>
<category term="news"/></entry>
<entry><title>First</title><link href="https://example.org/1"/><updated>2026-02-01T10:00:00Z</updated></entry>
</feed>"""


def test_atom_items_come_oldest_first_with_stable_keys():
    """Atom entries are read into the payload shape, oldest first; an entry without id is keyed by its link."""
    items = parse(ATOM, "application/atom+xml", "https://example.org/atom")
    assert [p["title"] for _, p in items] == ["First", "Second"]
    second = items[1][1]
    assert second["id"] == "tag:example.org,2026:2" and second["author"] == "Ada" and second["tags"] == ["news"]
    assert second["updated"] == "2026-02-02T10:00:00Z" and second["feed"]["title"] == "Atom test"
    assert items[0][1]["id"] == "https://example.org/1"
    assert parse(ATOM, "application/atom+xml", "https://example.org/atom") == items   # same keys every time
    assert len({k for k, _ in items}) == 2


def test_a_page_that_is_no_feed_is_a_config_error():
    """HTML or JSON served at the feed URL is refused with a message naming the URL."""
    with pytest.raises(NodeConfigError, match="not an RSS or Atom feed") as err:
        parse(b'{"items": []}', "application/json", "https://example.org/x")
    assert err.value.pointer == "/url"


def test_a_message_without_html_or_attachments():
    """A plain message has empty html, no attachments, and its addresses parsed into name and address."""
    msg = EmailMessage()
    msg["From"] = "bob@example.org"
    msg["To"] = '"Doe, Jane" <jane@example.org>'
    msg["Subject"] = "=?utf-8?q?caf=C3=A9?="
    msg.set_content("hello")
    payload, attachments = parse_message(msg.as_bytes())
    assert payload["from"] == {"name": "", "address": "bob@example.org"}
    assert payload["to"] == [{"name": "Doe, Jane", "address": "jane@example.org"}]
    assert payload["subject"] == "café" and payload["text"].strip() == "hello" and payload["html"] == ""
    assert payload["date"] is None and attachments == []
