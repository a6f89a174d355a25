"""The graph document: the one contract between editor, backend, engine and templates.

    {"schema_version": 1, "name": "...",
     "nodes": [{"id", "type", "type_version", "position": {"x", "y"}, "label", "config"}],
     "edges": [{"id", "source", "source_port", "target", "target_port"}]}

`GraphDocument.model_json_schema()` is published at GET /api/graph/schema.
Structural checks live here; semantic checks (types, ports, cycles...) in flows/validate.py.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

# Limits of one document (see docs/graph.md). Checked before anything else is parsed.
MAX_NODES = 5_000
MAX_EDGES = 20_000
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
MAX_NESTING = 32          # depth of nested objects/arrays anywhere in the document
MAX_STRING = 100_000      # characters in any one string value

NODE_ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Position(_Strict):
    x: float = 0.0
    y: float = 0.0


class GraphNode(_Strict):
    id: str = Field(pattern=NODE_ID_PATTERN, description="Unique in the graph; used in expressions as nodes.<id>")
    type: str = Field(min_length=1, max_length=100, description="Node type, e.g. http.request")
    type_version: int = Field(default=1, ge=1)
    position: Position = Field(default_factory=Position)
    label: str = Field(default="", max_length=200)
    config: dict[str, Any] = Field(default_factory=dict)


class GraphEdge(_Strict):
    id: str = Field(min_length=1, max_length=100)
    source: str
    source_port: str = "output"
    target: str
    target_port: str = "input"


class StickyNote(_Strict):
    """A note on the canvas: shown to people, ignored by validation and the engine."""

    id: str = Field(min_length=1, max_length=100)
    text: str = Field(default="", max_length=10_000)
    position: Position = Field(default_factory=Position)
    width: float = Field(default=220, ge=40, le=4000)
    height: float = Field(default=140, ge=40, le=4000)
    color: str = Field(default="yellow", max_length=20)


class GraphDocument(_Strict):
    schema_version: Literal[1] = SCHEMA_VERSION
    name: str = Field(default="Untitled", max_length=200)
    nodes: list[GraphNode] = Field(default_factory=list, max_length=MAX_NODES)
    edges: list[GraphEdge] = Field(default_factory=list, max_length=MAX_EDGES)
    notes: list[StickyNote] = Field(default_factory=list, max_length=1_000)

    def node(self, node_id: str) -> GraphNode | None:
        return next((n for n in self.nodes if n.id == node_id), None)


def graph_json_schema() -> dict[str, Any]:
    schema = GraphDocument.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://maily.flow/schemas/graph/v{SCHEMA_VERSION}.json"
    schema["title"] = "Maily Flow graph document"
    return schema
