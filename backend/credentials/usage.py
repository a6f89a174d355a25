"""Where a credential is used: node config values under a property marked `x-credential` (the
node type's JSON Schema, nodes/credentials.credential_field), in a workflow's current graph or in
any of its published versions. Deleting a credential that something uses is refused (409)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Workflow, WorkflowVersion
from nodes.registry import NodeRegistry

FALLBACK_KEY = "credential"   # node types the registry does not know (a removed plugin)


@lru_cache(maxsize=512)
def _credential_props(config_model: type[BaseModel]) -> frozenset[str]:
    props = config_model.model_json_schema().get("properties", {})
    return frozenset(name for name, schema in props.items() if isinstance(schema, dict) and "x-credential" in schema)


def credential_props(registry: NodeRegistry, type_name: str, version: Any) -> frozenset[str]:
    node_type = registry.get(type_name, version) if isinstance(version, int) else registry.latest(type_name)
    return _credential_props(node_type.config_model) if node_type is not None else frozenset({FALLBACK_KEY})


def nodes_using(graph: Any, credential_id: str, registry: NodeRegistry) -> list[str]:
    """Ids of the graph's nodes whose config refers to credential_id."""
    found = []
    for node in (graph or {}).get("nodes", []) if isinstance(graph, dict) else []:
        if not isinstance(node, dict) or not isinstance(node.get("config"), dict):
            continue
        props = credential_props(registry, str(node.get("type", "")), node.get("type_version"))
        if any(node["config"].get(p) == credential_id for p in props):
            found.append(str(node.get("id", "")))
    return found


async def used_by(s: AsyncSession, tenant_id: str, credential_id: str, registry: NodeRegistry) -> list[dict[str, Any]]:
    """[{workflow_id, workflow_name, node_ids}] over current graphs and published versions."""
    # The id is 32 hex characters: a text match narrows the rows before the graphs are parsed.
    mentions = sa.cast(Workflow.graph, sa.Text).contains(credential_id)
    live = (await s.execute(sa.select(Workflow.id, Workflow.name, Workflow.graph).where(
        Workflow.tenant_id == tenant_id, Workflow.deleted_at.is_(None), mentions))).all()
    published = (await s.execute(
        sa.select(Workflow.id, Workflow.name, WorkflowVersion.graph)
        .join(Workflow, Workflow.id == WorkflowVersion.workflow_id)
        .where(WorkflowVersion.tenant_id == tenant_id, Workflow.deleted_at.is_(None),
               sa.cast(WorkflowVersion.graph, sa.Text).contains(credential_id)))).all()
    out: dict[str, dict[str, Any]] = {}
    for wf_id, name, graph in [*live, *published]:
        nodes = nodes_using(graph, credential_id, registry)
        if nodes:
            entry = out.setdefault(wf_id, {"workflow_id": wf_id, "workflow_name": name, "node_ids": []})
            entry["node_ids"] = sorted(set(entry["node_ids"]) | set(nodes))
    return sorted(out.values(), key=lambda e: (e["workflow_name"], e["workflow_id"]))
