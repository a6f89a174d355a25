"""A loopback HTTP server that answers with the Authorization header it was sent, in its body
and in an X-Reflected header, as some APIs do in their error bodies: the credential redaction
tests (tests/flows/test_redaction.py, tests/backend/credentials/test_no_leaks.py) need a
server that echoes the secret back. Paths starting with /fail answer 400."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator


class _Reflect(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        status = 400 if self.path.startswith("/fail") else 200
        body = json.dumps({"you_sent": self.headers.get("Authorization")}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Reflected", self.headers.get("Authorization") or "")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def reflecting() -> Iterator[str]:
    """Serve until the block ends; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Reflect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
