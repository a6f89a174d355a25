"""Property: clients spread over three replicas, editing at random with random delivery
delays, while one replica is SIGKILLed at a random moment (its clients reconnect to another),
all end with the same document, and the stored draft is that document."""

from __future__ import annotations

import asyncio
import os
import random

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.collab.convert import graph_from_doc
from tests.backend.collab.test_convergence import random_op
from tests.backend.collab.yclient import YClient
from tests.replicas.conftest import eventually

EXAMPLES = 3 if os.environ.get("CI") == "true" else 2   # each example restarts a killed replica


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32), people=st.integers(3, 6), rounds=st.integers(10, 40),
       victim=st.integers(0, 2), kill_at=st.floats(0, 1))
async def test_random_edits_across_replicas_converge_through_a_kill(replicas, tenant, new_workflow, seed, people,
                                                                   rounds, victim, kill_at):
    """Every client and the stored draft end equal, whichever replica dies and when."""
    try:
        await _example(replicas, tenant, new_workflow, seed, people, rounds, victim, kill_at)
    finally:   # the next example starts with three replicas
        if replicas.apps[victim].proc.poll() is not None:
            await replicas.restart(victim)


async def _example(replicas, tenant, new_workflow, seed, people, rounds, victim, kill_at) -> None:
    rng = random.Random(seed)
    wf = await new_workflow("random")
    token = tenant.editor.token
    home = [i % 3 for i in range(people)]
    clients = [YClient(replicas.ws(home[i], wf, token), max_delay=0.03, rng=random.Random(rng.random()))
               for i in range(people)]
    await asyncio.gather(*(c.connect(timeout=30) for c in clients))
    killed = False
    for n in range(rounds):
        if not killed and n >= kill_at * rounds:
            killed = True
            replicas.apps[victim].kill()
            for i, c in enumerate(clients):
                if home[i] == victim:   # as the editor's provider: reconnect (elsewhere), resync
                    await c.closed.wait()
                    await c._stop_tasks()
                    home[i] = (victim + 1) % 3
                    c.url = replicas.ws(home[i], wf, token)
                    c.edit(lambda d: random_op(rng, d))   # an edit made while offline
                    await c.connect(timeout=30)
        rng.choice(clients).edit(lambda d: random_op(rng, d))
        await asyncio.sleep(rng.uniform(0, 0.02))
    await asyncio.gather(*(c.drain() for c in clients))
    await eventually(lambda: all(graph_from_doc(c.doc) == graph_from_doc(clients[0].doc) for c in clients),
                     what="every client's document equal")
    final = graph_from_doc(clients[0].doc)
    await asyncio.gather(*(c.close() for c in clients))
    await replicas.restart(victim)   # the stored draft is read through the replica that died
    async with httpx.AsyncClient(timeout=30) as http:
        for _ in range(150):   # polled: the rooms close and write out within seconds of the last client leaving
            r = await http.get(f"{replicas.apps[victim].url}/api/workflows/{wf}", headers=tenant.editor.headers)
            if r.json()["graph"] == final:
                break
            await asyncio.sleep(0.2)
    assert r.json()["graph"] == final
    fresh = await YClient(replicas.ws(victim, wf, token)).connect(timeout=30)
    assert graph_from_doc(fresh.doc) == final
    await fresh.close()
