"""Whatever the parameters of an export's nodes (hand-edited files, versions we never saw), the import
gives a graph whose structure is sound and a report line per node; it never fails with anything but
N8nExportError for the export's own shape."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

from flows.validate import validate_graph
from nodes.registry import default_registry
from templates.n8n import convert

REGISTRY = default_registry()
TYPES = ["manualTrigger", "webhook", "scheduleTrigger", "cron", "set", "noOp", "code", "wait", "executeWorkflow",
         "if", "switch", "merge", "splitInBatches", "httpRequest", "emailSend", "respondToWebhook", "stickyNote",
         "slack"]
STRUCTURAL = {"schema", "duplicate_id", "dangling_edge", "unknown_type", "unknown_version", "unknown_port",
              "trigger_input", "limit"}

_json = st.recursive(st.none() | st.booleans() | st.integers(-5, 100) | st.sampled_from(
    ["", "=", "={{ $json.a }}", "GET", "json", "rules", "all", "x,y", "append", "none", "1", "={{ $('n0').item.json.b }}"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["values", "conditions", "rules", "interval", "rule", "field", "mode", "value1", "value2",
                         "operation", "output", "amount", "unit", "url", "method", "assignments", "fields",
                         "options", "fallbackOutput", "resume", "color", "width", "respondWith", "leftValue",
                         "operator", "type", "string", "number", "toEmail", "jsCode", "batchSize"]),
        inner, max_size=4), max_leaves=12)


@st.composite
def exports(draw):
    count = draw(st.integers(1, 6))
    nodes = [{"name": f"n{i}", "type": "n8n-nodes-base." + draw(st.sampled_from(TYPES)),
              "typeVersion": draw(st.sampled_from([1, 1.1, 2, 2.1, 3, 3.4, 4.2])), "position": [i * 100, 0],
              "parameters": draw(st.dictionaries(st.sampled_from(
                  ["values", "conditions", "rules", "rule", "mode", "url", "method", "assignments", "options",
                   "amount", "unit", "resume", "httpMethod", "content", "color", "dataType", "value1", "jsCode"]),
                  _json, max_size=4)),
              **({"retryOnFail": True, "maxTries": draw(_json)} if draw(st.booleans()) else {})}
             for i in range(count)]
    conns = {}
    for i in range(count):
        outs = draw(st.lists(st.lists(st.integers(0, count - 1), max_size=2), max_size=3))
        if outs:
            conns[f"n{i}"] = {draw(st.sampled_from(["main", "main", "ai_tool"])): [
                [{"node": f"n{t}", "type": "main", "index": draw(st.integers(0, 1))} for t in o] for o in outs]}
    return {"name": "fuzz", "nodes": nodes, "connections": conns}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exports())
def test_any_parameters_give_a_sound_graph_and_a_full_report(raw):
    """Structure errors never come out of an import, and every node has its report line."""
    out = convert(raw)
    assert [r["node"] for r in out.report] == [n["name"] for n in raw["nodes"]]
    problems = validate_graph(out.graph, REGISTRY).problems
    assert [p for p in problems if p.code in STRUCTURAL] == []
    ids = [n["id"] for n in out.graph["nodes"]] + [n["id"] for n in out.graph["notes"]]
    assert len(ids) == len(set(ids))
