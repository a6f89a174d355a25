"""Runs one node through the real engine (manual trigger -> the node), for node tests that check
what the engine does with a node's errors: a temporary one retried, a permanent one not."""

from __future__ import annotations

from typing import Any

from flows.compile import compile_graph
from flows.engine import Emitter, Engine, RunOutcome, Services
from nodes.credentials import MemoryCredentials, ResolvedCredential
from nodes.registry import default_registry
from nodes.services import NodeServices
from tests.flows.fakes import edge, graph, node


class Events:
    def __init__(self) -> None:
        self.events: list[Any] = []

    def emit(self, event: Any) -> None:
        self.events.append(event)

    def kinds(self, node_id: str) -> list[str]:
        return [e.kind for e in self.events if e.node_id == node_id]


async def run_node(node_type: str, config: dict[str, Any], *credentials: ResolvedCredential,
                   http: Any = None) -> tuple[RunOutcome, Events]:
    """The outcome of a run of `start -> call` (call: node_type with config; no retry backoff)."""
    doc = graph([node("start", "trigger.manual"), node("call", node_type, retry_backoff_s=0, **config)],
                [edge("start", "call")])
    creds = MemoryCredentials({c.id: c for c in credentials})
    sink = Events()
    engine = Engine(Services(http=http, nodes=NodeServices.in_memory(credentials=creds)))
    outcome = await engine.run(compile_graph(doc, default_registry()), "r1", {}, Emitter("r1", [sink]))
    return outcome, sink
