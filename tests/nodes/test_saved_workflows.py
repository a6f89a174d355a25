"""Each node type runs inside a saved workflow (tests/nodes/workflows/*.json) and gives the saved output.

A saved file holds `graph`, `input` and `expect` (the run's output: the main path's last nodes), and
`credentials` when its nodes use the vault (id -> {type, fields, secret}: the vault the run sees;
"{base}" in a field: the loopback test server's URL). The http.request and chat workflows call
that server, the db.* ones the machine's PostgreSQL, MariaDB and Redis, allow-listed as an operator would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows.compile import compile_graph
from flows.engine import Emitter, Engine, Services
from nodes.credentials import MemoryCredentials, ResolvedCredential
from nodes.registry import default_registry
from nodes.services import NodeServices

SAVED = sorted((Path(__file__).parent / "workflows").glob("*.json"))


def test_every_built_in_node_type_has_a_saved_workflow():
    used = {n["type"] for path in SAVED for n in json.loads(path.read_text())["graph"]["nodes"]}
    assert {t.spec.type for t in default_registry().all()} <= used


@pytest.mark.parametrize("path", SAVED, ids=[p.stem for p in SAVED])
async def test_the_saved_workflow_runs_and_gives_the_saved_output(path, http_server, loopback_client):
    saved = json.loads(path.read_text())
    payload = {**saved["input"], "base": http_server} if path.stem == "http_request" else saved["input"]
    vault = MemoryCredentials({cid: ResolvedCredential(cid, c["type"], {k: v.replace("{base}", http_server)
                                                                         if isinstance(v, str) else v
                                                                         for k, v in c["fields"].items()},
                                                       tuple(c.get("secret", ())))
                               for cid, c in saved.get("credentials", {}).items()})
    plan = compile_graph(saved["graph"], default_registry())
    services = Services(http=loopback_client, nodes=NodeServices.in_memory(credentials=vault))
    outcome = await Engine(services).run(plan, f"saved-{path.stem}", payload, Emitter(f"saved-{path.stem}", []))
    # approval.wait suspends its run: the saved file says `"status": "waiting"`
    assert outcome.status == saved.get("status", "succeeded"), outcome.error
    assert outcome.output == saved["expect"]
