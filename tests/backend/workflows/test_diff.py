"""diff_graphs: elements matched by id; changed fields listed, config changes as JSON pointers."""

from __future__ import annotations

import copy

from backend.seed import welcome_graph
from backend.workflows.diff import diff_graphs, is_empty


def test_same_graph_has_no_changes():
    """A graph compared with itself (or a reordered copy) shows nothing."""
    g = welcome_graph()
    reordered = {**g, "nodes": list(reversed(g["nodes"]))}
    assert is_empty(diff_graphs(g, reordered))


def test_added_removed_and_changed_nodes_and_edges():
    """Added and removed elements are listed whole; a changed one lists fields and pointers."""
    old = welcome_graph()
    new = copy.deepcopy(old)
    new["nodes"].append({"id": "extra", "type": "data.set", "config": {}})
    new["nodes"] = [n for n in new["nodes"] if n["id"] != "vip"]
    big = next(n for n in new["nodes"] if n["id"] == "big")
    big["label"] = "Huge?"
    big["position"] = {"x": 1, "y": 2}
    big["config"]["condition"] = "{{ false }}"
    big["config"]["a/b~c"] = {"deep": 1}
    new["edges"][0]["target_port"] = "other"
    new["name"] = "renamed"
    d = diff_graphs(old, new)
    assert [n["id"] for n in d["nodes"]["added"]] == ["extra"]
    assert [n["id"] for n in d["nodes"]["removed"]] == ["vip"]
    (changed,) = d["nodes"]["changed"]
    assert changed["id"] == "big" and changed["fields"] == ["config", "label", "position"]
    pointers = [c["pointer"] for c in changed["changes"]]
    assert pointers == ["/config/a~1b~0c", "/config/condition", "/label", "/position"]
    assert changed["changes"][1] == {"pointer": "/config/condition", "op": "replace",
                                     "from": "{{ input.total > 100 }}", "to": "{{ false }}"}
    assert d["edges"]["changed"][0]["fields"] == ["target_port"]
    assert d["document"] == [{"pointer": "/name", "op": "replace", "from": old["name"], "to": "renamed"}]


def test_nested_config_changes_are_pointed_at_precisely():
    """Nested config objects are descended; arrays are compared whole."""
    old = {"nodes": [{"id": "a", "type": "t", "config": {"h": {"x": 1, "y": [1]}}}], "edges": []}
    new = {"nodes": [{"id": "a", "type": "t", "config": {"h": {"x": 2, "y": [1, 2]}}}], "edges": []}
    changes = diff_graphs(old, new)["nodes"]["changed"][0]["changes"]
    assert [c["pointer"] for c in changes] == ["/config/h/x", "/config/h/y"]


def test_booleans_are_not_numbers():
    """true -> 1 is a change even though Python says True == 1."""
    old = {"nodes": [{"id": "a", "config": {"f": True}}]}
    new = {"nodes": [{"id": "a", "config": {"f": 1}}]}
    assert diff_graphs(old, new)["nodes"]["changed"][0]["fields"] == ["config"]
