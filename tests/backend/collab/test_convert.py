"""Graph JSON <-> Y.Doc: random graphs round-trip, and apply_graph edits only what differs."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycrdt import Doc, Map

from backend.collab.convert import UnrepresentableGraph, apply_graph, doc_from_graph, graph_from_doc, integers_as_strings
from backend.seed import welcome_graph

ident = st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,8}", fullmatch=True)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**53, 2**53), st.text(max_size=10),
                    st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)), max_leaves=8)
position = st.fixed_dictionaries({"x": st.integers(-5000, 5000), "y": st.integers(-5000, 5000)})


@st.composite
def graphs(draw) -> dict[str, Any]:
    node_ids = draw(st.lists(ident, unique=True, max_size=6))
    nodes = [{"id": i, "type": draw(st.sampled_from(["data.set", "http.request", "logic.if"])),
              "type_version": 1, "position": draw(position), "label": draw(st.text(max_size=10)),
              "config": draw(st.dictionaries(st.text(min_size=1, max_size=6), json_values, max_size=4))}
             for i in node_ids]
    edges = []
    if node_ids:
        for n, eid in enumerate(draw(st.lists(ident, unique=True, max_size=6))):
            edges.append({"id": eid, "source": draw(st.sampled_from(node_ids)), "source_port": "output",
                          "target": draw(st.sampled_from(node_ids)), "target_port": "input"})
    graph = {"schema_version": 1, "name": draw(st.text(max_size=20)), "nodes": nodes, "edges": edges}
    notes = [{"id": i, "text": draw(st.text(max_size=20)), "position": draw(position), "width": 220,
              "height": 140, "color": "yellow"} for i in draw(st.lists(ident, unique=True, max_size=3))]
    if notes:
        graph["notes"] = notes
    return graph


def by_id(graph: dict[str, Any]) -> dict[str, Any]:
    return {**graph, **{k: sorted(graph[k], key=lambda e: e["id"]) for k in ("nodes", "edges", "notes") if k in graph}}


@settings(max_examples=60, deadline=None)
@given(graphs())
def test_random_graphs_round_trip(graph):
    """Any graph comes back from the document unchanged, up to id order."""
    assert graph_from_doc(doc_from_graph(graph)) == by_id(graph)
    copy = Doc()
    copy.apply_update(doc_from_graph(graph).get_update())  # and through the wire format
    assert graph_from_doc(copy) == by_id(graph)


@settings(max_examples=40, deadline=None)
@given(graphs(), graphs())
def test_apply_graph_turns_any_graph_into_any_other(a, b):
    """apply_graph reaches the target graph from any starting document."""
    doc = doc_from_graph(a)
    apply_graph(doc, b)
    assert graph_from_doc(doc) == by_id(b)


def _sync(x: Doc, y: Doc) -> None:
    x.apply_update(y.get_update(x.get_state()))
    y.apply_update(x.get_update(y.get_state()))


def test_apply_graph_keeps_a_concurrent_edit_of_another_config_field():
    """A REST save that changes one config field does not clobber someone else's concurrent
    edit of another field of the same node."""
    server = doc_from_graph(welcome_graph())
    editor = Doc()
    _sync(editor, server)
    editor.get("nodes", type=Map)["big"]["config"]["extra"] = "typed by a person"
    saved = welcome_graph()
    next(n for n in saved["nodes"] if n["id"] == "big")["config"]["condition"] = "{{ input.total > 500 }}"
    apply_graph(server, saved)
    _sync(editor, server)
    for doc in (server, editor):
        config = graph_from_doc(doc)["nodes"][0]["config"]
        assert config == {"condition": "{{ input.total > 500 }}", "extra": "typed by a person"}


def test_apply_graph_of_the_same_graph_changes_nothing():
    """Saving the graph the document already holds produces no update at all."""
    doc = doc_from_graph(welcome_graph())
    before = doc.get_state()
    apply_graph(doc, welcome_graph())
    assert doc.get_state() == before


def test_apply_graph_sets_only_the_changed_field():
    """Moving a node writes its position only, so the update is tiny."""
    doc = doc_from_graph(welcome_graph())
    state = doc.get_state()
    moved = welcome_graph()
    moved["nodes"][0]["position"] = {"x": 1, "y": 2}
    apply_graph(doc, moved)
    assert len(doc.get_update(state)) < 60


@pytest.mark.parametrize("graph", [{"nodes": [{"type": "x"}]}, {"nodes": [{"id": "a"}, {"id": "a"}]},
                                   {"edges": "nope"}, [1]])
def test_unrepresentable_graphs_are_refused(graph):
    """Elements without a unique string id cannot be keyed in the document."""
    with pytest.raises(UnrepresentableGraph):
        apply_graph(Doc(), graph)


def test_integral_numbers_come_back_as_ints_and_booleans_stay_booleans():
    """Yjs numbers are doubles; 3 stays 3, True stays True (not 1)."""
    g = {"schema_version": 1, "name": "n", "nodes": [{"id": "a", "type": "t", "config": {"n": 3, "b": True,
                                                                                        "f": 1.5}}], "edges": []}
    out = graph_from_doc(doc_from_graph(g))
    assert out == g and type(out["nodes"][0]["config"]["n"]) is int and out["nodes"][0]["config"]["b"] is True
    doc = doc_from_graph(g)
    g["nodes"][0]["config"]["b"] = 1
    apply_graph(doc, g)
    assert graph_from_doc(doc)["nodes"][0]["config"]["b"] == 1 and graph_from_doc(doc)["nodes"][0]["config"]["b"] is not True


def test_integers_beyond_2_53_are_refused_with_their_node_and_pointer():
    """Yjs numbers are doubles and pycrdt panics on ints past 2**63: such a graph is refused before any edit."""
    g = {"nodes": [{"id": "a", "type": "t", "config": {"ok": 2**53, "list": [1, -(2**63)]}}]}
    with pytest.raises(UnrepresentableGraph) as info:
        apply_graph(Doc(), g)
    assert (info.value.node_id, info.value.pointer) == ("a", "/nodes/0/config/list/1")


def test_a_legacy_draft_keeps_its_huge_integers_as_strings():
    """integers_as_strings (used when a stored draft cannot be held as is) loses no data."""
    g = {"nodes": [{"id": "a", "config": {"n": 2**70, "flag": True, "small": 7}}]}
    out = integers_as_strings(g)
    assert out["nodes"][0]["config"] == {"n": str(2**70), "flag": True, "small": 7}
    doc = doc_from_graph(out)
    assert graph_from_doc(doc)["nodes"][0]["config"]["n"] == str(2**70)
