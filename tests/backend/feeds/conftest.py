"""Feed and mailbox tests: the app served on loopback with its poll loop off (tests drive
`app.state.feeds.tick()`), loopback allowed as an outbound address, and a feed served by a
small ASGI app on its own loopback port."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass, field
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import httpx
import pytest

from backend.settings import Settings
from tests.backend.feeds.dovecot import Dovecot
from tests.live_server import answer_lifespan, serving


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    return Settings(database_url=db_url, data_dir=tmp_path, secret_key="test-secret-key", prefect="never",
                    prefect_at_start=False, scheduler_enabled=False, http_allowed_hosts="127.0.0.1")


@pytest.fixture
async def client(app):
    async with serving(app) as address, httpx.AsyncClient(base_url=f"http://{address}", timeout=30) as c:
        yield c


@dataclass
class Feed:
    """An RSS 2.0 feed with ETag support; `items` may be changed between polls."""

    items: list[dict[str, str]] = field(default_factory=list)
    status: int = 200
    body: bytes | None = None          # served as is instead of the feed
    requests: list[dict[str, str]] = field(default_factory=list)
    not_modified: int = 0

    def add(self, n: int) -> dict[str, str]:
        item = {"guid": f"urn:item:{n}", "title": f"Item {n}", "link": f"https://example.org/{n}",
                "summary": f"Summary of item {n}", "author": "ada@example.org (Ada)",
                "published": format_datetime(datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(hours=n))}
        self.items.insert(0, item)    # newest first, as feeds list them
        return item

    def xml(self) -> bytes:
        entries = "".join(
            f"<item><guid>{escape(i['guid'])}</guid><title>{escape(i['title'])}</title><link>{escape(i['link'])}</link>"
            f"<description>{escape(i['summary'])}</description><author>{escape(i['author'])}</author>"
            f"<pubDate>{i['published']}</pubDate></item>" for i in self.items)
        return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Test feed</title>'
                f"<link>https://example.org/</link><description>t</description>{entries}</channel></rss>").encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await answer_lifespan(receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.requests.append(headers)
        body = self.body if self.body is not None else self.xml()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if self.status == 200 and headers.get("if-none-match") == etag:
            self.not_modified += 1
            await send({"type": "http.response.start", "status": 304, "headers": [(b"etag", etag.encode())]})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": self.status,
                    "headers": [(b"content-type", b"application/rss+xml"), (b"etag", etag.encode())]})
        await send({"type": "http.response.body", "body": body})


@pytest.fixture
async def feed():
    served = Feed()
    async with serving(served) as address:
        served.url = f"http://{address}/feed.xml"   # type: ignore[attr-defined]
        yield served


@pytest.fixture
async def dovecot_factory():
    """Dovecot servers (stopped and removed after the test): `await make(idle=True)` starts one."""
    servers: list[Dovecot] = []

    async def make(*, idle: bool = True, start: bool = True) -> Dovecot:
        server = Dovecot(Path(tempfile.mkdtemp(prefix="maily-dovecot-")), idle=idle)
        servers.append(server)
        if start:
            await server.start()
        return server

    yield make
    for server in servers:
        await server.stop()
        shutil.rmtree(server.root, ignore_errors=True)
