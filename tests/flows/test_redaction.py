"""A run scrubs the credential secrets its nodes resolved from everything it records: node
outputs (a server that reflects the Authorization header), errors, and every event."""

from __future__ import annotations

import json

import pytest

from flows.compile import compile_graph
from flows.engine import Emitter, Engine, Services
from nodes.credentials import REDACTED, MemoryCredentials, ResolvedCredential
from nodes.net import SafeHttpClient
from nodes.registry import default_registry
from nodes.services import NodeServices
from tests.flows.fakes import edge, graph, node
from tests.reflect_server import reflecting

MARKER = "MARKER-sk-live-7f3a9c1e5b"


@pytest.fixture
def reflect_server():
    with reflecting() as url:
        yield url


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
