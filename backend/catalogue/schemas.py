"""Bodies of the node catalogue, the graph schema, graph validation and the health check."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

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


class GraphSchemaOut(BaseModel):
    """The graph document's JSON Schema (draft 2020-12): its $schema, $id, $defs and required pass through."""

    model_config = ConfigDict(extra="allow")

    title: str
    type: str
    properties: dict[str, Any]
