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
    assert conflicts == [{"pointer": "/nodes/n1/config/values/b", "base": "x", "ours": "mine", "theirs": "new"}]
    assert _node(merged, 1)["config"]["values"]["b"] == "mine" and _node(merged, 0)["label"] == "upstream"


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
