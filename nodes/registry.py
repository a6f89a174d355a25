"""The node catalogue: built-in node types plus plugins from the `maily.nodes` entry points.

A plugin package declares, in its pyproject.toml:

    [project.entry-points."maily.nodes"]
    my_nodes = "my_package.nodes"      # a module with SPEC/Config/execute,
                                       # or a module with NODE_MODULES = [mod, ...]
"""

from __future__ import annotations

import importlib
import logging
from functools import lru_cache
from importlib.metadata import entry_points
from types import ModuleType
from typing import Iterable

from nodes.sdk import NodeType

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "maily.nodes"

# Built-in node modules, by import path. Kept as strings so one broken module names itself.
BUILTIN_MODULES: tuple[str, ...] = (
    "nodes.trigger.manual",
    "nodes.trigger.webhook",
    "nodes.trigger.rss",
    "nodes.trigger.imap",
    "nodes.webhook.respond",
    "nodes.data.set",
    "nodes.data.transform",
    "nodes.logic.if_",
    "nodes.logic.switch",
    "nodes.logic.merge",
    "nodes.logic.for_each",
    "nodes.flow.subworkflow",
    "nodes.util.delay",
    "nodes.approval.wait",
    "nodes.code.javascript",
    "nodes.http.request",
    "nodes.chat.slack",
    "nodes.chat.discord",
    "nodes.chat.teams",
    "nodes.http.graphql",
    "nodes.storage.s3",
    "nodes.email.compose",
    "nodes.email.send",
    "nodes.verify.email_address",
    "nodes.verify.content",
    "nodes.verify.certify",
    "nodes.ai.generate_text",
    "nodes.ai.classify",
    "nodes.ai.summarize",
    "nodes.ai.extract_entities",
    "nodes.ai.personalize",
    "nodes.ai.optimize_timing",
    "nodes.db.postgres",
    "nodes.db.mysql",
    "nodes.db.redis",
    "nodes.ai.mcp_tool",
)


class NodeRegistry:
    def __init__(self, types: Iterable[NodeType] = ()):
        self._types: dict[tuple[str, int], NodeType] = {}
        for t in types:
            self.add(t)

    def add(self, node_type: NodeType) -> None:
        if node_type.key in self._types:
            raise ValueError(f"node type {node_type.spec.type} v{node_type.spec.version} is registered twice")
        self._types[node_type.key] = node_type

    def get(self, type_name: str, version: int) -> NodeType | None:
        return self._types.get((type_name, version))

    def versions(self, type_name: str) -> list[int]:
        return sorted(v for (t, v) in self._types if t == type_name)

    def latest(self, type_name: str) -> NodeType | None:
        vs = self.versions(type_name)
        return self._types[(type_name, vs[-1])] if vs else None

    def all(self) -> list[NodeType]:
        return [self._types[k] for k in sorted(self._types)]

    def __contains__(self, key: tuple[str, int]) -> bool:
        return key in self._types


def _modules_of(obj: ModuleType) -> list[ModuleType]:
    listed = getattr(obj, "NODE_MODULES", None)
    return list(listed) if listed is not None else [obj]


def load_plugins(registry: NodeRegistry) -> None:
    """Add every node type that installed packages register under `maily.nodes`.

    A plugin that fails to import is logged and left out; it never takes the app down."""
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = ep.load()
            for module in _modules_of(loaded):
                dist = ep.dist.name if ep.dist else ep.name
                registry.add(NodeType.from_module(module, source=dist))
        except Exception:  # a broken plugin must not break the catalogue
            log.exception("node plugin %s could not be loaded", ep.value)


def build_registry(with_plugins: bool = True) -> NodeRegistry:
    registry = NodeRegistry(NodeType.from_module(importlib.import_module(m)) for m in BUILTIN_MODULES)
    if with_plugins:
        load_plugins(registry)
    return registry


@lru_cache(maxsize=1)
def default_registry() -> NodeRegistry:
    return build_registry()
