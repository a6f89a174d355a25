"""Shared fixtures of the node tests: a real HTTP server on 127.0.0.1 and a NodeContext factory."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from nodes.net import SafeHttpClient
from nodes.sdk import NodeContext
from nodes.services import NodeServices


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep pytest output clean
        pass

    def _send(self, status: int, body: bytes, ctype: str = "application/json", extra: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _route(self):
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = url.path
        if path == "/echo":
            payload = {"method": self.command, "path": path, "query": query, "headers": dict(self.headers.items()),
                       "body": body.decode("utf-8", "replace")}
            return self._send(200, json.dumps(payload).encode())
        if path == "/auth":  # 401 unless the bearer is ?token=; `reflect` echoes the Authorization header
            ok = self.headers.get("Authorization") == f"Bearer {query.get('token')}"
            return self._send(200 if ok else 401, json.dumps({"ok": ok, "seen": self.headers.get("Authorization")}).encode())
        if path == "/text":
            return self._send(200, b"hello world", "text/plain; charset=utf-8")
        if path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            extra = {"Retry-After": query["retry_after"]} if "retry_after" in query else {}
            return self._send(code, json.dumps({"error": code}).encode(), extra=extra)
        if path == "/redirect":
            return self._send(int(query.get("code", 302)), b"", extra={"Location": query["to"]})
        if path == "/big":
            return self._send(200, b"x" * int(query.get("n", 1000)), "text/plain")
        if path == "/stream-big":  # no Content-Length: the client must stop reading itself
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Connection", "close")
            self.end_headers()
            for _ in range(int(query.get("chunks", 100))):
                self.wfile.write(b"y" * 65536)
            return
        if path == "/slow":
            time.sleep(float(query.get("s", 2)))
            return self._send(200, b"{}")
        return self._send(404, b'{"error": "not found"}')

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _route


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):  # clients hanging up early is expected here
        pass


@pytest.fixture(scope="session")
def http_server():
    """Base URL of a threaded HTTP server on 127.0.0.1 (echo, text, status, redirect, big, slow)."""
    server = _QuietServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
async def loopback_client():
    """A SafeHttpClient that may reach 127.0.0.1 (allow-listed, as an operator would)."""
    client = SafeHttpClient(allowed_hosts=frozenset({"127.0.0.1"}), timeout_s=5)
    yield client
    await client.aclose()


class FakeClock:
    """Records sleeps instead of sleeping."""

    def __init__(self):
        from datetime import datetime, timezone

        self.current = datetime(2030, 1, 1, tzinfo=timezone.utc)
        self.slept: list[float] = []

    def now(self):
        return self.current

    async def sleep(self, seconds: float) -> None:
        from datetime import timedelta

        self.slept.append(seconds)
        self.current += timedelta(seconds=seconds)


@pytest.fixture
def make_ctx():
    """Builds a NodeContext with the given scope pieces (nodes outputs, trigger, input...)."""

    def make(scope: dict | None = None, services: dict | None = None, **kwargs) -> NodeContext:
        return NodeContext(run_id="run-1", node_id=kwargs.pop("node_id", "n1"), scope=scope or {},
                           services=NodeServices.in_memory(**(services or {})), **kwargs)

    return make
