"""A run scrubs the credential secrets its nodes resolved from everything it records: node
outputs (a server that reflects the Authorization header), errors, and every event."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from flows.compile import compile_graph
from flows.engine import Emitter, Engine, Services
from nodes.credentials import REDACTED, MemoryCredentials, ResolvedCredential
from nodes.net import SafeHttpClient
from nodes.registry import default_registry
from nodes.services import NodeServices
from tests.flows.fakes import edge, graph, node

MARKER = "MARKER-sk-live-7f3a9c1e5b"


class _Reflect(BaseHTTPRequestHandler):
    """Answers with the Authorization header it saw, as some APIs do in their error bodies."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        status = 400 if self.path.startswith("/fail") else 200
        body = json.dumps({"you_sent": self.headers.get("Authorization")}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Echo", self.headers.get("Authorization") or "")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def reflect_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Reflect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class Collect:
    def __init__(self):
        self.events = []

    def emit(self, event) -> None:
        self.events.append(event)


async def _run(url: str, downstream: bool = True):
    doc = graph([node("start", "trigger.manual"),
                 node("call", "http.request", url=url, credential="cred1", retries=0),
                 *([node("copy", "data.set", values={"seen": "{{ nodes.call.output.body.you_sent }}"})]
                   if downstream else [])],
                [edge("start", "call"), *([edge("call", "copy")] if downstream else [])])
    creds = MemoryCredentials({"cred1": ResolvedCredential("cred1", "bearer", {"token": MARKER}, ("token",))})
    client = SafeHttpClient(allowed_hosts=frozenset({"127.0.0.1"}), timeout_s=5)
    sink = Collect()
    try:
        engine = Engine(Services(http=client, nodes=NodeServices.in_memory(credentials=creds)))
        outcome = await engine.run(compile_graph(doc, default_registry()), "r1", {}, Emitter("r1", [sink]))
    finally:
        await client.aclose()
    return outcome, sink


async def test_a_reflected_secret_is_redacted_in_outputs_downstream_nodes_and_events(reflect_server):
    """The server echoes the bearer token; the run's output, the next node and every event see [redacted]."""
    outcome, sink = await _run(f"{reflect_server}/ok")
    assert outcome.status == "succeeded"
    assert outcome.output["copy"]["seen"] == f"Bearer {REDACTED}"
    recorded = json.dumps([e.data for e in sink.events])
    assert MARKER not in recorded and REDACTED in recorded


async def test_a_failing_call_that_reflects_the_secret_records_a_redacted_error(reflect_server):
    """A 4xx whose body carries the token fails the run with an error message that shows it redacted."""
    outcome, sink = await _run(f"{reflect_server}/fail", downstream=False)
    assert outcome.status == "failed"
    assert REDACTED in outcome.error["message"] and MARKER not in json.dumps(outcome.error)
    assert MARKER not in json.dumps([e.data for e in sink.events])
