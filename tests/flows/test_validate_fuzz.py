"""flows.validate under hypothesis: any JSON at all never makes it raise, every injected fault in
one document is reported in the same answer, and a graph with a cycle is never accepted."""

from __future__ import annotations

import json

from hypothesis import assume, given
from hypothesis import strategies as st

from flows.validate import ValidationResult, validate_graph
from tests.strategies import (cyclic_graphs, dags, edge, fake_registry, json_values, mutated_documents, node,
                              nodes_on_cycles)

REGISTRY = fake_registry()


def _check(raw) -> ValidationResult:
    result = validate_graph(raw, REGISTRY)
    json.dumps(result.to_json())   # the answer is always plain JSON the API can send
    return result


@given(json_values)
def test_arbitrary_json_never_raises(raw):
    """Any JSON value, document or not, gets a ValidationResult, never an exception."""
    result = _check(raw)
    assert isinstance(raw, dict) or not result.ok


@given(mutated_documents())
def test_a_document_with_one_value_replaced_never_raises(raw):
    """A valid graph with one value anywhere replaced by arbitrary JSON or removed is validated without raising."""
    _check(raw)


@given(cyclic_graphs())
def test_cycles_are_always_rejected_naming_every_node_on_them(doc):
    """A graph with a cycle is never ok, and every node on a cycle is named by a cycle problem."""
    result = _check(doc)
    assert not result.ok
    named = {i for p in result.errors if p.code == "cycle" for i in p.node_ids}
    assert named == nodes_on_cycles(doc)


@st.composite
def faulty_documents(draw):
    """A valid DAG with several independent faults added: (document, the (code, id) pairs expected)."""
    doc = draw(dags(max_nodes=8))
    ids = [n["id"] for n in doc["nodes"]]
    assume(not any(i.startswith(("ghost", "alien", "loop")) for i in ids))
    expected = set()
    for k in range(draw(st.integers(0, 3))):     # edges to nodes that do not exist
        doc["edges"].append(edge(f"dangle{k}", draw(st.sampled_from(ids)), f"ghost{k}"))
        expected.add(("dangling_edge", f"dangle{k}"))
    for k in range(draw(st.integers(0, 3))):     # node types outside the catalogue
        doc["nodes"].append(node(f"alien{k}", "no.such.type", type_version=1))
        expected.add(("unknown_type", f"alien{k}"))
    for k in range(draw(st.integers(0, 2))):     # self-loops on fresh pass-through nodes
        doc["nodes"].append(node(f"loop{k}", "test.pass", type_version=1, config={}))
        doc["edges"].append(edge(f"self{k}", f"loop{k}", f"loop{k}"))
        expected.add(("cycle", f"loop{k}"))
    return doc, expected


@given(faulty_documents())
def test_every_fault_is_reported_in_one_answer(case):
    """Each of several independent faults in one document appears in the same validation result."""
    doc, expected = case
    result = _check(doc)
    found = {(p.code, p.edge_id or p.node_id) for p in result.errors}
    assert expected <= found, (expected - found, result.to_json())
    assert result.ok == (not expected)
