"""Loopback servers that speak the OpenAI chat completions and Anthropic messages APIs as
their documentation describes (request and response shapes, usage fields, error bodies),
with scripted failures: statuses with Retry-After, slow answers and malformed bodies.

    server = FakeProvider.start()        # one server answers both APIs
    server.base_url                      # http://127.0.0.1:<port>/v1 (OpenAI) or .../ (Anthropic)
    server.script(answer="billing", fail=[429, 500], retry_after="0", delay=0, malformed=False)
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


@dataclass
class Script:
    answer: str | Callable[[dict[str, Any]], str] = "ok"
    fail: list[int] = field(default_factory=list)       # statuses returned first, one per request
    retry_after: str | None = None
    delay: float = 0.0
    malformed: bool = False
    usage: bool = True
    always_fail: int | None = None
    only_path: str | None = None      # failures apply only to requests whose path contains this


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY the body waits for the
    # client's delayed ACK (~40 ms per request on Linux), which drowns what bench/ai_overhead.py measures.
    disable_nagle_algorithm = True
    server: "_Server"

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        fake = self.server.fake
        with fake.lock:
            fake.requests.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
            script = fake.current
            applies = script.only_path is None or script.only_path in self.path
            status = (script.fail.pop(0) if script.fail else script.always_fail) if applies else None
        anthropic = self.path.rstrip("/").endswith("/messages") and "/chat/" not in self.path
        if script.delay:
            time.sleep(script.delay)
        if status:
            headers = {"Retry-After": script.retry_after} if script.retry_after is not None else {}
            if anthropic:
                err = {"type": "error", "error": {"type": "rate_limit_error" if status == 429 else "api_error",
                                                  "message": f"status {status}"}}
            else:
                err = {"error": {"message": f"status {status}", "type": "server_error", "code": None}}
            return self._send(status, json.dumps(err).encode(), headers)
        if script.malformed:
            return self._send(200, b'{"id": "x", "choices": "not-a-list", "content": 7')
        text = script.answer(body) if callable(script.answer) else script.answer
        if anthropic:
            doc: dict[str, Any] = {
                "id": "msg_01", "type": "message", "role": "assistant", "model": body.get("model"),
                "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": None,
                "usage": {"input_tokens": 25, "output_tokens": 5} if script.usage else None}
            if not script.usage:
                doc.pop("usage")
        else:
            doc = {"id": "chatcmpl-1", "object": "chat.completion", "created": int(time.time()),
                   "model": body.get("model"),
                   "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": None},
                                "finish_reason": "stop", "logprobs": None}]}
            if script.usage:
                doc["usage"] = {"prompt_tokens": 25, "completion_tokens": 5, "total_tokens": 30}
        self._send(200, json.dumps(doc).encode())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: "FakeProvider"

    def handle_error(self, request: Any, client_address: Any) -> None:  # clients timing out is expected
        pass


class FakeProvider:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.current = Script()
        self.requests: list[dict[str, Any]] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @classmethod
    def start(cls) -> "FakeProvider":
        fake = cls()
        fake._thread.start()
        return fake

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def openai_url(self) -> str:
        return self.root + "/v1"

    def script(self, **kwargs: Any) -> "FakeProvider":
        with self.lock:
            self.current = Script(**kwargs)
            self.requests.clear()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
