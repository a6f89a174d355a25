"""The node catalogue, the graph schema, graph validation, and the health check."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.datastructures import State

from backend.auth.schemas import Principal
from backend.catalogue.schemas import GraphSchemaOut, HealthOut, NodeTypeOut, ValidationOut
from backend.catalogue.services import node_type_out
from flows.graph import graph_json_schema
from flows.validate import validate_graph


class CatalogueController(Controller):
    path = "/api"
    tags = ["catalogue"]

    @get("/nodes", operation_id="listNodeTypes")
    async def list_node_types(self, state: State, principal: Principal) -> list[NodeTypeOut]:
        """Every node type, built-in and plugin, with ports and config JSON Schema."""
        return [node_type_out(t) for t in state.registry.all()]

    @get("/graph/schema", operation_id="getGraphSchema")
    async def graph_schema(self, principal: Principal) -> GraphSchemaOut:
        """JSON Schema of the graph document."""
        return GraphSchemaOut(**graph_json_schema())

    @post("/graph/validate", operation_id="validateGraph", status_code=200)
    async def validate_graph(self, data: Any, state: State, principal: Principal) -> ValidationOut:
        """Every problem of a graph document; 200 even when the graph has errors."""
        return ValidationOut(**validate_graph(data, state.registry).to_json())


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
