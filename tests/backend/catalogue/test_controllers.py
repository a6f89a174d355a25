"""The node catalogue, graph schema, graph validation and health endpoints."""

from __future__ import annotations

from types import SimpleNamespace

from pydantic import BaseModel

from backend.seed import welcome_graph
from flows.graph import graph_json_schema
from nodes.registry import BUILTIN_MODULES, build_registry
from nodes.sdk import NodeConfig, NodeSpec, NodeType, Port
from tests.backend.conftest import assert_problem


async def test_catalogue_lists_builtins_with_schemas(client, tenant_a):
    r = await client.get("/api/nodes", headers=tenant_a.viewer.headers)
    assert r.status_code == 200
    types = {t["type"]: t for t in r.json()}
    assert len(types) >= len(BUILTIN_MODULES) == 36
    for name in ("trigger.manual", "data.set", "logic.if", "logic.merge", "http.request", "util.delay"):
        assert types[name]["source"] == "builtin"
        assert types[name]["config_schema"]["type"] == "object"
    assert types["trigger.manual"]["trigger"] is True and types["trigger.manual"]["inputs"] == []
    assert {p["name"] for p in types["logic.if"]["outputs"]} == {"true", "false"}
    assert types["http.request"]["side_effects"] is True


async def test_catalogue_needs_auth(client):
    assert_problem(await client.get("/api/nodes"), 401)


class ShoutConfig(NodeConfig):
    text: str = "hi"


async def _shout(ctx, config: BaseModel, inputs: dict) -> dict:
    return {"output": config.text.upper()}


def plugin_module() -> SimpleNamespace:
    """What a plugin package's `maily.nodes` entry point would load."""
    spec = NodeSpec(type="acme.shout", version=1, title="Shout", category="util", icon="megaphone",
                    description="Upper-cases text", outputs=(Port("output", "string"),))
    return SimpleNamespace(__name__="acme_nodes.shout", SPEC=spec, Config=ShoutConfig, execute=_shout)


async def test_plugin_is_listed_like_a_builtin(app, client, tenant_a):
    registry = build_registry(with_plugins=False)
    registry.add(NodeType.from_module(plugin_module(), source="acme-nodes"))
    app.state.registry = registry
    types = {t["type"]: t for t in (await client.get("/api/nodes", headers=tenant_a.viewer.headers)).json()}
    shout = types["acme.shout"]
    assert shout["source"] == "acme-nodes" and shout["config_schema"]["properties"]["text"]["default"] == "hi"
    assert shout["outputs"] == [{"name": "output", "type": "string", "description": "", "multiple": False, "each": False}]
    # ...and graphs may use it.
    graph = welcome_graph()
    graph["nodes"].append({"id": "shout", "type": "acme.shout", "config": {"text": "x"}})
    graph["edges"].append({"id": "e9", "source": "done", "target": "shout"})
    r = await client.post("/api/graph/validate", json=graph, headers=tenant_a.viewer.headers)
    assert r.json()["ok"] is True, r.json()


def test_a_catalogue_entry_is_built_once_per_loaded_type():
    """A node type's entry (with its JSON Schema) is built on first use and reused; another loaded type,
    even with the same spec, gets its own."""
    from backend.catalogue.services import node_type_out

    first, again = NodeType.from_module(plugin_module(), source="a"), NodeType.from_module(plugin_module(), source="b")
    assert node_type_out(first) is node_type_out(first)
    assert node_type_out(again) is not node_type_out(first) and node_type_out(again).source == "b"


async def test_graph_schema(client, tenant_a):
    """The graph schema is served whole: $schema, $id and $defs pass through the declared response."""
    schema = (await client.get("/api/graph/schema", headers=tenant_a.viewer.headers)).json()
    assert schema["title"] == "Maily Flow graph document" and "nodes" in schema["properties"]
    assert schema == graph_json_schema() and "$defs" in schema


async def test_validate_reports_problems_with_node_ids(client, tenant_a):
    graph = welcome_graph()
    graph["nodes"][1]["type"] = "data.nope"
    graph["nodes"][2]["config"] = {"mode": "sideways"}
    r = await client.post("/api/graph/validate", json=graph, headers=tenant_a.viewer.headers)
    assert r.status_code == 200
    body = r.json()
    assert body["ok"] is False
    by_node = {p.get("node_id"): p for p in body["problems"]}
    assert by_node["order"]["code"] == "unknown_type"
    assert by_node["big"]["code"] == "config" and by_node["big"]["pointer"].startswith("/nodes/2/config")


async def test_validate_valid_graph(client, tenant_a):
    r = await client.post("/api/graph/validate", json=welcome_graph(), headers=tenant_a.viewer.headers)
    assert r.status_code == 200 and r.json()["ok"] is True and r.json()["problems"] == []


async def test_health_needs_no_auth(client):
    """The health check answers without credentials and names the database's and Prefect's state."""
    r = await client.get("/api/health")
    # these apps start Prefect at the first durable run (prefect_at_start=False): not yet
    assert r.status_code == 200 and r.json() == {"status": "ok", "database": "ok", "prefect": "starting"}


async def test_openapi_31_documents_operations(client):
    doc = (await client.get("/schema/openapi.json")).json()
    assert doc["openapi"].startswith("3.1")
    op = doc["paths"]["/api/workflows"]["post"]
    assert op["operationId"] == "createWorkflow"
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert "name" in doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]["properties"]
