"""The REST graph limits hold on the co-editing document: what a co-editor sends that would make
a draft REST refuses (too many nodes, too big, too deep) is refused, and GET/PUT keep answering."""

from __future__ import annotations

import json

import pytest
from pycrdt import Doc, Map

from backend.collab import store
from backend.collab.convert import doc_from_graph, graph_from_doc
from backend.collab.limits import MAX_UPDATE_DEPTH, UpdateRefused, check_update
from backend.db.session import Database
from backend.seed import welcome_graph
from flows.graph import MAX_DOCUMENT_BYTES, MAX_NESTING, MAX_NODES, MAX_STRING
from tests.backend.collab.test_endpoint import eventually, label, set_label, url
from tests.backend.collab.yclient import YClient


def _chain(doc: Doc, depth: int, root: str = "meta") -> None:
    """A Y.Map in a Y.Map in ... `depth` levels under `root`, in one transaction."""
    with doc.transaction():
        m = doc.get(root, type=Map)
        for _ in range(depth):
            m["deep"] = Map()
            m = m["deep"]


def _nested_list(depth: int) -> list:
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_a_chain_of_y_maps_deeper_than_the_bound_is_refused_before_pycrdt():
    """A 5,000-deep chain of Y.Maps in one update is refused by the structural check."""
    doc = Doc()
    _chain(doc, 5_000)
    with pytest.raises(UpdateRefused, match="Y types nested deeper"):
        check_update(doc.get_update())
    shallow = Doc()
    _chain(shallow, MAX_UPDATE_DEPTH - 1)
    assert check_update(shallow.get_update()).depth == MAX_UPDATE_DEPTH - 1


def test_a_string_longer_than_rest_allows_is_refused():
    """A value of MAX_STRING + 1 characters is refused as too big, one of MAX_STRING passes."""
    doc = Doc()
    doc.get("meta", type=Map)["s"] = "é" * MAX_STRING
    check_update(doc.get_update())
    doc.get("meta", type=Map)["s"] = "é" * (MAX_STRING + 1)
    with pytest.raises(UpdateRefused) as refused:
        check_update(doc.get_update())
    assert refused.value.too_big


def test_an_editor_update_is_admitted_without_measuring_the_document():
    """Adding a node the way the editor does is admitted from the update's shape alone."""
    from backend.collab.doc_limits import DocLimits

    doc = doc_from_graph(welcome_graph())
    limits = DocLimits(doc)
    editor = Doc()
    editor.apply_update(doc.get_update())
    before = editor.get_state()
    with editor.transaction():
        editor.get("nodes", type=Map)["added"] = Map({"type": "logic.noop", "config": Map({"a": {"b": [1]}})})
    update = editor.get_update(before)
    limits.admit(doc, update, check_update(update))
    assert limits.trials == 0


async def _refused(client: YClient) -> int:
    await eventually(lambda: client.closed.is_set(), timeout=30)
    return client.close_code or 0


async def _get_and_put_answer(http, wf, member) -> dict:
    r = await http.get(f"/api/workflows/{wf['id']}", headers=member.headers)
    assert r.status_code == 200, r.text
    graph = r.json()["graph"]
    put = await http.put(f"/api/workflows/{wf['id']}", json={"graph": graph}, headers=member.headers)
    assert put.status_code == 200, put.text
    return graph


async def test_strings_that_would_make_the_draft_too_big_are_refused(live_server, workflow, tenant_a, http):
    """Sixty 100,000-character values (6 MB, under the per-update bounds each) stop at the 5 MB
    document limit: their sender is closed with 1009, the others keep editing, GET/PUT answer."""
    bad = await YClient(url(live_server, workflow, tenant_a.editor)).connect()
    other = await YClient(url(live_server, workflow, tenant_a.editor)).connect()
    try:
        for i in range(60):
            bad.edit(lambda d, i=i: d.get("meta", type=Map).__setitem__(f"k{i}", "x" * MAX_STRING))
        assert await _refused(bad) == 1009
        bad.edit(set_label("never stored"))
        other.edit(set_label("still serving"))
        await eventually(lambda: label(other) == "still serving")
        graph = await _get_and_put_answer(http, workflow, tenant_a.editor)
        assert len(json.dumps(graph, separators=(",", ":")).encode()) <= MAX_DOCUMENT_BYTES
    finally:
        await bad.close()
        await other.close()


async def test_more_nodes_than_rest_allows_are_refused(live_server, workflow, tenant_a, http):
    """6,000 nodes sent in batches of 1,000 stop at MAX_NODES: the batch that crosses it is refused (1008)."""
    bad = await YClient(url(live_server, workflow, tenant_a.editor)).connect()
    try:
        for batch in range(6):
            def add(d: Doc, batch: int = batch) -> None:
                nodes = d.get("nodes", type=Map)
                for i in range(1_000):
                    nodes[f"n{batch}_{i}"] = {"type": "logic.noop"}
            bad.edit(add)
        assert await _refused(bad) == 1008
        graph = await _get_and_put_answer(http, workflow, tenant_a.editor)
        assert len(graph["nodes"]) <= MAX_NODES
    finally:
        await bad.close()


@pytest.mark.parametrize("how", ["y_maps_5000", "value_5000", "value_past_graph_nesting", "y_maps_step_by_step"])
async def test_deep_values_are_refused_and_get_put_answer(live_server, workflow, tenant_a, http, how):
    """5,000-deep Y.Map chains and values, and nesting past the graph's 32 levels built a few
    levels per update, are refused (1008); GET and PUT answer 200 all along."""
    bad = await YClient(url(live_server, workflow, tenant_a.editor)).connect()
    try:
        if how == "y_maps_5000":
            bad.edit(lambda d: _chain(d, 5_000))
        elif how == "value_5000":
            bad.edit(lambda d: d.get("meta", type=Map).__setitem__("deep", _nested_list(5_000)))
        elif how == "value_past_graph_nesting":
            bad.edit(lambda d: d.get("meta", type=Map).__setitem__("deep", _nested_list(MAX_NESTING + 2)))
        else:
            for _ in range(MAX_NESTING):  # 4 more levels each time, under the previous ones
                def deeper(d: Doc) -> None:
                    m = d.get("meta", type=Map)
                    while isinstance(m.get("deep"), Map):
                        m = m["deep"]
                    m["deep"] = Map({"deep": Map({"deep": Map({"deep": Map()})})})
                bad.edit(deeper)
        assert await _refused(bad) == 1008
        graph = await _get_and_put_answer(http, workflow, tenant_a.editor)
        assert "deep" not in graph or len(json.dumps(graph)) < 10_000
    finally:
        await bad.close()


async def test_a_deep_draft_stored_before_the_limits_still_answers(live_server, http, tenant_a, db_url):
    """A document stored by an earlier version with a 5,000-deep Y.Map chain: with its room open,
    GET and PUT answer 200 (the element too deep to read is left out)."""
    r = await http.post("/api/workflows", json={"name": "legacy", "graph": welcome_graph()},
                        headers=tenant_a.editor.headers)
    wf = r.json()
    doc = doc_from_graph(welcome_graph())
    _chain(doc, 5_000, root="nodes")
    db = Database(db_url)
    try:
        async with db.sessionmaker() as s, s.begin():
            await store.save_state(s, wf["id"], tenant_a.id, doc.get_update())
    finally:
        await db.dispose()
    client = await YClient(url(live_server, wf, tenant_a.editor)).connect()
    try:
        graph = await _get_and_put_answer(http, wf, tenant_a.editor)
        assert "deep" not in {n["id"] for n in graph["nodes"]}
        assert {n["id"] for n in graph["nodes"]} == {n["id"] for n in graph_from_doc(doc_from_graph(welcome_graph()))["nodes"]}
    finally:
        await client.close()


async def test_rest_refuses_a_draft_over_the_limits_too(http, workflow, tenant_a):
    """PUT of a draft with more than MAX_NODES nodes is a 422 naming the limit, as the document refuses it."""
    graph = dict(workflow["graph"], nodes=[{"id": f"n{i}", "type": "logic.noop"} for i in range(MAX_NODES + 1)])
    r = await http.put(f"/api/workflows/{workflow['id']}", json={"graph": graph}, headers=tenant_a.editor.headers)
    assert r.status_code == 422, r.text
    assert "limit" in r.json()["detail"] and r.json()["pointer"] == "/nodes"
