"""The node catalogue, the graph schema, graph validation, and the health check."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from pydantic import BaseModel

from backend.auth.schemas import Principal
from backend.errors import read_json
from flows.graph import graph_json_schema
from flows.validate import validate_graph
from nodes.sdk import NodeType, Port


class PortOut(BaseModel):
    name: str
    type: str
    description: str
    multiple: bool
    each: bool


class NodeTypeOut(BaseModel):
    type: str
    version: int
    title: str
    category: str
    icon: str
    description: str
    inputs: list[PortOut]
    outputs: list[PortOut]
    trigger: bool
    side_effects: bool
    side_effect_kind: str            # none | keyed | unkeyed: whether a crash-interrupted node may run again
    waits: bool
    source: str                      # "builtin" or the plugin's distribution name
    config_schema: dict[str, Any]    # JSON Schema of the node's config (drives the editor's form)


class ValidationOut(BaseModel):
    ok: bool
    error_count: int = 0
    warning_count: int = 0
    problems: list[dict[str, Any]]


class HealthOut(BaseModel):
    status: str
    database: str
    # ok | starting | down, or "off" when this app runs no Prefect (MAILY_PREFECT=never)
    prefect: str = "off"


def _port(p: Port) -> PortOut:
    return PortOut(name=p.name, type=p.type, description=p.description, multiple=p.multiple, each=p.each)


# A node type's catalogue entry never changes once loaded; building its JSON Schema took ~15 ms for the whole
# catalogue on every canvas open. Keyed by id() with the type itself kept, so an id is never reused.
_ENTRIES: dict[int, tuple[NodeType, NodeTypeOut]] = {}


def node_type_out(t: NodeType) -> NodeTypeOut:
    cached = _ENTRIES.get(id(t))
    if cached is None or cached[0] is not t:
        cached = _ENTRIES[id(t)] = (t, _build_entry(t))
    return cached[1]


def _build_entry(t: NodeType) -> NodeTypeOut:
    s = t.spec
    return NodeTypeOut(
        type=s.type, version=s.version, title=s.title, category=s.category, icon=s.icon, description=s.description,
        inputs=[_port(p) for p in s.inputs], outputs=[_port(p) for p in s.outputs], trigger=s.trigger,
        side_effects=s.side_effects, side_effect_kind=s.effects, waits=s.waits, source=t.source, config_schema=t.config_schema(),
    )


class CatalogueController(Controller):
    path = "/api"
    tags = ["catalogue"]

    @get("/nodes", operation_id="listNodeTypes")
    async def list_node_types(self, state: State, principal: Principal) -> list[NodeTypeOut]:
        """Every node type, built-in and plugin, with ports and config JSON Schema."""
        return [node_type_out(t) for t in state.registry.all()]

    @get("/graph/schema", operation_id="getGraphSchema")
    async def graph_schema(self, principal: Principal) -> dict[str, Any]:
        """JSON Schema of the graph document."""
        return graph_json_schema()

    @post("/graph/validate", operation_id="validateGraph", status_code=200)
    async def validate_graph(self, request: Request, principal: Principal) -> ValidationOut:
        """Every problem of a graph document; 200 even when the graph has errors."""
        raw = await read_json(request)
        return ValidationOut(**validate_graph(raw, request.app.state.registry).to_json())


class HealthController(Controller):
    path = "/api/health"
    tags = ["health"]

    @get("/", operation_id="health")
    async def health(self, state: State) -> Response[HealthOut]:
        """Liveness, database reachability and the Prefect server's state (no auth); 503 when
        runs cannot start (database unreachable, or the Prefect server down)."""
        ok = await state.db.ping()
        runner = getattr(state, "runner", None)
        prefect = getattr(runner, "prefect", None)
        prefect_status = prefect.status if prefect is not None else "off"
        healthy = ok and prefect_status != "down"
        body = HealthOut(status="ok" if healthy else "degraded", database="ok" if ok else "unreachable",
                         prefect=prefect_status)
        return Response(body, status_code=200 if healthy else 503, headers={} if healthy else {"Retry-After": "5"})
