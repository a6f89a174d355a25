"""A code sandbox shared by the code node tests, and a helper running a graph with it on the engine."""

from __future__ import annotations

import pytest

from flows.compile import compile_graph
from flows.engine import Emitter, Engine, Services
from nodes.code.sandbox import CodeLimits, CodeSandbox
from nodes.services import NodeServices
from tests.flows import fakes
from tests.flows.fakes import edge, graph, node


@pytest.fixture(scope="session")
async def sandbox():
    box = CodeSandbox(CodeLimits(max_time_s=10.0, max_memory_mb=256, workers=2))
    yield box
    await box.aclose()


class Collect:
    def __init__(self):
        self.events = []

    def emit(self, event) -> None:
        self.events.append(event)

    def last(self, node_id: str):
        return [e for e in self.events if e.node_id == node_id][-1]


@pytest.fixture
def run_code(sandbox):
    """Runs trigger -> code.javascript(**config) on the in-process engine; (outcome, events)."""

    async def run(code: str, payload=None, **config):
        doc = graph([node("start", "trigger.manual"), node("js", "code.javascript", code=code, **config)],
                    [edge("start", "js")])
        sink = Collect()
        engine = Engine(Services(nodes=NodeServices.in_memory(code=sandbox)))
        outcome = await engine.run(compile_graph(doc, fakes.registry()), "r-js", payload or {}, Emitter("r-js", [sink]))
        return outcome, sink

    return run
