"""Three-way merge of a template update into a draft: non-conflicting changes of both sides survive."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from templates.merge import merge_graphs


def _graph(n: int) -> dict:
    nodes = [{"id": f"n{i}", "type": "data.set", "type_version": 1, "position": {"x": i * 10, "y": 0},
              "label": f"N{i}", "config": {"values": {"a": i, "b": "x"}}} for i in range(n)]
    edges = [{"id": f"e{i}", "source": f"n{i}", "source_port": "output", "target": f"n{i + 1}", "target_port": "input"}
             for i in range(n - 1)]
    return {"schema_version": 1, "name": "g", "nodes": nodes, "edges": edges}


def _node(g, i):
    return next(n for n in g["nodes"] if n["id"] == f"n{i}")


FIELDS = st.sampled_from(["label", "a", "b", "x", "remove"])


@settings(max_examples=200, deadline=None)
@given(n=st.integers(2, 8), data=st.data())
def test_disjoint_changes_of_both_sides_all_survive(n, data):
    base = _graph(n)
    ours, theirs = copy.deepcopy(base), copy.deepcopy(base)
    # each node is changed by at most one side; fields of one node may be split between sides
    plan = data.draw(st.lists(st.tuples(st.sampled_from(["ours", "theirs", "both-other-fields"]), FIELDS),
                              min_size=n, max_size=n))
    expect = copy.deepcopy(base)
    removed = set()
    for i, (who, field) in enumerate(plan):
        sides = {"ours": [ours], "theirs": [theirs], "both-other-fields": []}[who]
        if who == "both-other-fields":
            # ours changes the label, theirs a config value: both must survive
            _node(ours, i)["label"] = f"ours{i}"
            _node(theirs, i)["config"]["values"]["a"] = f"theirs{i}"
            _node(expect, i)["label"] = f"ours{i}"
            _node(expect, i)["config"]["values"]["a"] = f"theirs{i}"
            continue
        for g in sides + [expect]:
            node = _node(g, i)
            if field == "label":
                node["label"] = f"{who}{i}"
            elif field == "remove":
                g["nodes"].remove(node)
                g["edges"] = [e for e in g["edges"] if f"n{i}" not in (e["source"], e["target"])]
                removed.add(i)
            else:
                node["config"]["values"][field] = f"{who}{i}"
    theirs["nodes"].append({"id": "new_theirs", "type": "data.set", "config": {}})
    ours["nodes"].append({"id": "new_ours", "type": "data.set", "config": {}})
    merged, conflicts = merge_graphs(base, ours, theirs)
    assert conflicts == []
    by_id = {x["id"]: x for x in merged["nodes"]}
    assert {"new_theirs", "new_ours"} <= set(by_id)
    for node in expect["nodes"]:
        assert by_id[node["id"]] == node
    assert {i for i in range(n) if f"n{i}" not in by_id} == removed
    assert sorted(e["id"] for e in merged["edges"]) == sorted(e["id"] for e in expect["edges"])


def test_same_field_changed_differently_keeps_ours_and_reports_it():
    base = _graph(2)
    ours, theirs = copy.deepcopy(base), copy.deepcopy(base)
    _node(ours, 1)["config"]["values"]["b"] = "mine"
    _node(theirs, 1)["config"]["values"]["b"] = "new"
    _node(theirs, 0)["label"] = "upstream"
    merged, conflicts = merge_graphs(base, ours, theirs)
    assert conflicts == [{"pointer": "/nodes/n1/config/values/b", "element": "node", "id": "n1",
                          "field": "config.values.b", "base": "x", "ours": "mine", "theirs": "new",
                          "choosable": True, "resolution": "mine"}]
    assert _node(merged, 1)["config"]["values"]["b"] == "mine" and _node(merged, 0)["label"] == "upstream"
    # the user chooses the template's value for that conflict: theirs, the rest unchanged
    chosen, conflicts = merge_graphs(base, ours, theirs, {"/nodes/n1/config/values/b": "theirs"})
    assert _node(chosen, 1)["config"]["values"]["b"] == "new" and _node(chosen, 0)["label"] == "upstream"
    assert [c["resolution"] for c in conflicts] == ["theirs"]
    assert merge_graphs(base, ours, theirs, {"/nodes/n1/config/values/b": "mine"})[0] == merged


def test_edges_to_a_node_upstream_removed_are_dropped_and_reported():
    base = _graph(2)
    ours, theirs = copy.deepcopy(base), copy.deepcopy(base)
    ours["nodes"].append({"id": "mine", "type": "data.set", "config": {}})
    ours["edges"].append({"id": "mine-edge", "source": "n1", "source_port": "output", "target": "mine",
                          "target_port": "input"})
    theirs["nodes"] = [x for x in theirs["nodes"] if x["id"] != "n1"]
    theirs["edges"] = []
    merged, conflicts = merge_graphs(base, ours, theirs)
    assert [x["id"] for x in merged["nodes"]] == ["n0", "mine"] and merged["edges"] == []
    assert [c["pointer"] for c in conflicts] == ["/edges/mine-edge"]


def test_removed_by_us_changed_by_them_is_a_conflict_and_stays_removed():
    base = _graph(2)
    ours, theirs = copy.deepcopy(base), copy.deepcopy(base)
    ours["nodes"] = ours["nodes"][:1]
    ours["edges"] = []
    _node(theirs, 1)["label"] = "changed"
    merged, conflicts = merge_graphs(base, ours, theirs)
    assert [x["id"] for x in merged["nodes"]] == ["n0"]
    assert conflicts[0]["pointer"] == "/nodes/n1" and conflicts[0]["ours"] is None
    assert (conflicts[0]["element"], conflicts[0]["id"], conflicts[0]["field"]) == ("node", "n1", "")
    # taking theirs brings the node back, as the template has it
    restored, _ = merge_graphs(base, ours, theirs, {"/nodes/n1": "theirs"})
    assert [x["id"] for x in restored["nodes"]] == ["n0", "n1"] and _node(restored, 1)["label"] == "changed"


def test_taking_theirs_where_they_removed_a_node_removes_it_and_drops_its_edges():
    base = _graph(2)
    ours, theirs = copy.deepcopy(base), copy.deepcopy(base)
    _node(ours, 1)["label"] = "kept by me"
    theirs["nodes"] = theirs["nodes"][:1]
    theirs["edges"] = []
    kept, conflicts = merge_graphs(base, ours, theirs)
    assert [x["id"] for x in kept["nodes"]] == ["n0", "n1"] and conflicts[0]["theirs"] is None
    gone, conflicts = merge_graphs(base, ours, theirs, {"/nodes/n1": "theirs"})
    assert [x["id"] for x in gone["nodes"]] == ["n0"] and gone["edges"] == []
    assert [(c["pointer"], c["resolution"]) for c in conflicts][0] == ("/nodes/n1", "theirs")
