"""Property: 3-5 clients editing at random over the real endpoint (random delays, disconnects
and reconnects) all end with the same document, and the database holds it too."""

from __future__ import annotations

import asyncio
import os
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Doc, Map

from backend.collab.convert import graph_from_doc
from tests.backend.collab.test_endpoint import eventually, stored_graph, url
from tests.backend.collab.yclient import YClient

EXAMPLES = 40 if os.environ.get("CI") == "true" else 8


def random_op(rng: random.Random, doc: Doc) -> None:
    nodes, edges = doc.get("nodes", type=Map), doc.get("edges", type=Map)
    ids = sorted(nodes.keys())
    kind = rng.choice(["add", "remove", "config", "move", "edge", "unedge"])
    if kind == "add" or not ids:
        nid = f"n{rng.randrange(30)}"
        nodes[nid] = Map({"id": nid, "type": "data.set", "position": {"x": 0, "y": 0}, "config": Map()})
    elif kind == "remove":
        nid = rng.choice(ids)
        del nodes[nid]
        for eid in [e for e in edges.keys() if nid in (edges[e]["source"], edges[e]["target"])]:
            del edges[eid]
    elif kind == "config":
        config = nodes[rng.choice(ids)].get("config")
        if isinstance(config, Map):
            config[rng.choice("abc")] = rng.randrange(100)
    elif kind == "move":
        nodes[rng.choice(ids)]["position"] = {"x": rng.randrange(500), "y": rng.randrange(500)}
    elif kind == "edge":
        s, t = rng.choice(ids), rng.choice(ids)
        edges[f"e{rng.randrange(30)}"] = {"id": "e", "source": s, "source_port": "output", "target": t,
                                          "target_port": "input"}
    elif kind == "unedge" and len(edges):
        del edges[rng.choice(sorted(edges.keys()))]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32), people=st.integers(3, 5), rounds=st.integers(5, 25))
async def test_random_concurrent_edits_converge(live_server, workflow_factory, tenant_a, db_url, app, seed, people,
                                                rounds):
    """Every client and the stored document end equal."""
    rng = random.Random(seed)
    wf = await workflow_factory()
    clients = [YClient(url(live_server, wf, tenant_a.editor), max_delay=0.03, rng=random.Random(rng.random()))
               for _ in range(people)]
    await asyncio.gather(*(c.connect() for c in clients))
    for _ in range(rounds):
        c = rng.choice(clients)
        if rng.random() < 0.1:  # drop and come back with the same doc (offline edits included)
            await c.close() if rng.random() < 0.5 else (c.abort(), await c._stop_tasks())
            c.edit(lambda d: random_op(rng, d))
            await c.connect()
        else:
            c.edit(lambda d: random_op(rng, d))
        await asyncio.sleep(rng.uniform(0, 0.02))
    await asyncio.gather(*(c.drain() for c in clients))
    # == and not repr(): dict key order inside plain values may differ between replicas.
    await eventually(lambda: all(graph_from_doc(c.doc) == graph_from_doc(clients[0].doc) for c in clients),
                     timeout=10)
    final = graph_from_doc(clients[0].doc)
    await asyncio.gather(*(c.close() for c in clients))
    await eventually(lambda: wf["id"] not in app.state.collab.rooms, timeout=10)
    assert await stored_graph(db_url, wf["id"]) == final
