"""The Set v1 export from n8n's repository, imported and run on our engine: every node the report calls
`mapped` outputs what n8n's own run recorded for it (the export's pinData); the others say why not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows.compile import compile_graph
from flows.engine import Emitter, Engine, Services
from nodes.code.sandbox import CodeLimits, CodeSandbox
from nodes.registry import default_registry
from nodes.services import NodeServices
from templates.n8n import convert

FIXTURE = Path(__file__).parent / "fixtures" / "Set.workflow.json"


class _Collect:
    def __init__(self):
        self.events = []

    def emit(self, event) -> None:
        self.events.append(event)


@pytest.fixture
async def sandbox():
    box = CodeSandbox(CodeLimits(max_time_s=10.0, max_memory_mb=256, workers=1))
    yield box
    await box.aclose()


async def test_mapped_nodes_output_what_n8n_recorded(sandbox):
    """Set (keep input), Keep Only Set and dot-notation nesting give n8n's pinData; the array and the
    no-dot-notation cases are reported partial, and indeed differ."""
    raw = json.loads(FIXTURE.read_text())
    out = convert(raw)
    status = {r["node"]: r for r in out.report}
    sink = _Collect()
    engine = Engine(Services(nodes=NodeServices.in_memory(code=sandbox)))
    outcome = await engine.run(compile_graph(out.graph, default_registry()), "r-n8n-set", {}, Emitter("r-n8n-set", [sink]))
    assert outcome.status == "succeeded", outcome.error
    outputs = {e.node_id: e.data["output"]["output"] for e in sink.events if e.kind == "node.succeeded"}
    ids = {r["node"]: r["node_ids"][0] for r in out.report if r["node_ids"]}
    compared = []
    for name, items in raw["pinData"].items():
        same = outputs[ids[name]] == items[0]["json"]
        assert same == (status[name]["status"] == "mapped"), (name, outputs[ids[name]], status[name])
        compared.append((name, same))
    assert sorted(compared) == [("Set", True), ("Set Disable Dot Notation", False), ("Set Keep Only Set", True),
                                ("Set to Array", False), ("Set to Object", True)]
    assert "list[1]" in status["Set to Array"]["notes"][0] and "dot notation" in status["Set Disable Dot Notation"]["notes"][0]


@pytest.mark.parametrize("fixture, feeds", [("IfV2.number.json", "If"), ("switch.rules.workflow.json", "Switch1")])
async def test_branches_route_each_item_where_n8n_did(fixture, feeds):
    """IF v2 and Switch v3 from n8n's repository: each test item, given as the run input in place of the
    test-data node (another package, unmapped), reaches the node n8n's pinData recorded it at."""
    raw = json.loads((Path(__file__).parent / "fixtures" / fixture).read_text())
    out = convert(raw)
    trigger = out.graph["nodes"][0]["id"]
    out.graph["edges"].append({"id": "test-feed", "source": trigger, "source_port": "output",
                               "target": feeds, "target_port": "input"})
    plan = compile_graph(out.graph, default_registry())
    ids = {r["node"]: r["node_ids"][0] for r in out.report if r["node_ids"]}
    reached: dict[str, list] = {}
    for item in raw["nodes"][1]["parameters"]["data"]:
        sink = _Collect()
        outcome = await Engine(Services(nodes=NodeServices.in_memory())).run(plan, "r-branch", item,
                                                                             Emitter("r-branch", [sink]))
        assert outcome.status == "succeeded", outcome.error
        for name in raw["pinData"]:
            if any(e.kind == "node.succeeded" and e.node_id == ids[name] for e in sink.events):
                reached.setdefault(name, []).append(item)
    assert reached == {name: [i["json"] for i in items] for name, items in raw["pinData"].items()}
