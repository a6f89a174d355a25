"""Fetching and reading a feed for trigger.rss: one conditional GET through the SSRF-guarded
client (If-None-Match / If-Modified-Since from the last answer), parsed by feedparser into
run payloads, oldest first, each with a stable key (sha256 of its id, else link, else content)."""

from __future__ import annotations

import calendar
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import feedparser

from nodes.errors import NodeConfigError, NodeTemporaryError
from nodes.net import SafeHttpClient

MAX_ITEMS = 500          # items read from one answer (the newest, when a feed holds more)
_TEXT_MAX = 20_000       # characters kept of a summary or content


@dataclass
class FeedAnswer:
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    items: list[tuple[str, dict[str, Any]]] = field(default_factory=list)   # (key, payload), oldest first


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _iso(parsed: Any) -> str | None:
    if not parsed:
        return None
    return datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc).isoformat().replace("+00:00", "Z")


def _item(entry: Any, feed: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    content = entry.get("content") or []
    payload = {
        "title": entry.get("title", ""),
        "link": entry.get("link", ""),
        "id": entry.get("id") or entry.get("link") or "",
        "published": _iso(entry.get("published_parsed")) or entry.get("published"),
        "updated": _iso(entry.get("updated_parsed")) or entry.get("updated"),
        "summary": (entry.get("summary") or "")[:_TEXT_MAX],
        "content": (content[0].get("value", "") if content else "")[:_TEXT_MAX],
        "author": entry.get("author", ""),
        "tags": [t.get("term") for t in entry.get("tags") or [] if t.get("term")],
        "enclosures": [{"url": e.get("href", ""), "type": e.get("type", ""), "length": e.get("length", "")}
                       for e in entry.get("enclosures") or []],
        "feed": feed,
    }
    ident = entry.get("id") or entry.get("link") or f"{payload['title']}\n{payload['published']}\n{payload['summary']}"
    return sha(ident), payload


def parse(body: bytes, content_type: str, url: str) -> list[tuple[str, dict[str, Any]]]:
    """The feed's items as (key, payload), oldest first; NodeConfigError when it is no feed."""
    parsed = feedparser.parse(body, response_headers={"content-type": content_type, "content-location": url})
    if not parsed.version and not parsed.entries:   # version: "rss20", "atom10"... ("" when no format matched)
        why = f": {parsed.get('bozo_exception')}" if parsed.bozo else ""
        raise NodeConfigError(f"{url} is not an RSS or Atom feed{why}", pointer="/url")
    feed = {"title": parsed.feed.get("title", ""), "link": parsed.feed.get("link", ""), "url": url}
    items = [_item(e, feed) for e in parsed.entries[:MAX_ITEMS]]
    items.reverse()   # feeds list the newest first; runs start in publication order
    return items


async def fetch(http: SafeHttpClient, url: str, state: dict[str, Any]) -> FeedAnswer:
    """One conditional GET; NodeTemporaryError for 429/5xx and network trouble, NodeConfigError for other refusals."""
    headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5",
               "User-Agent": "MailyFlow-Feeds/1"}
    if state.get("etag"):
        headers["If-None-Match"] = state["etag"]
    if state.get("last_modified"):
        headers["If-Modified-Since"] = state["last_modified"]
    resp = await http.request("GET", url, headers=headers)
    if resp.status == 304:
        return FeedAnswer(not_modified=True, etag=state.get("etag"), last_modified=state.get("last_modified"))
    if resp.status == 429 or resp.status >= 500:
        raise NodeTemporaryError(f"GET {url} answered {resp.status}")
    if resp.status >= 400:
        raise NodeConfigError(f"GET {url} answered {resp.status}", pointer="/url")
    return FeedAnswer(etag=resp.headers.get("etag"), last_modified=resp.headers.get("last-modified"),
                      items=parse(resp.body_bytes, resp.headers.get("content-type", ""), url))
