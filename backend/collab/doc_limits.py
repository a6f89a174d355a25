"""The REST graph limits, held on the shared document too (issue 12, item 9).

A draft saved through `PUT /api/workflows/{id}` may not exceed the document limits of
flows/graph.py (nodes, edges, string length, nesting, total size: `flows.validate.limit_problems`).
A co-editor could otherwise build one a few bytes at a time. Each update is admitted here after
its structural check (limits.check_update) and before pycrdt applies it to the room's document.

Measuring the whole document per keystroke would cost milliseconds per update on the event
loop, so the common update is admitted from its shape alone: what it can add (UpdateShape) is
set against the document's last measured depth and size and its live node and edge counts.
Only an update that could cross a limit is tried on a copy of the document, measured, and
refused (the document untouched) if the copy breaks a limit.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from pycrdt import Doc, Map

from backend.collab.convert import graph_from_doc
from backend.collab.limits import UpdateRefused, UpdateShape
from flows.graph import MAX_DOCUMENT_BYTES, MAX_EDGES, MAX_NESTING, MAX_NODES
from flows.jsonlimits import depth_of
from flows.validate import limit_problems

log = logging.getLogger("maily.collab")

_ROOT_LIMITS = {"nodes": MAX_NODES, "edges": MAX_EDGES}
# Bytes of graph JSON one update byte can become at most: a control character (1 byte) is
# written \u0001 (6), plus the quotes, colon and comma of a one-byte key.
_GROWTH_PER_BYTE = 6
_GROWTH_PER_UPDATE = 64


def measure(graph: dict[str, Any]) -> tuple[int, int]:
    """(size in bytes of the graph JSON, its nesting depth), for a graph within the limits."""
    size = len(json.dumps(graph, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))
    return size, depth_of(graph, MAX_NESTING)


def _problems(graph: dict[str, Any]) -> list[Any]:
    return limit_problems(graph)


class DocLimits:
    """The measured state of one room's document, kept as an upper bound between measurements."""

    def __init__(self, doc: Doc) -> None:
        self.trials = 0  # how many updates had to be tried on a copy (tests read it)
        self.remeasure(graph_from_doc(doc))

    def remeasure(self, graph: dict[str, Any]) -> None:
        """After the server changed the document itself (a REST save, a restore)."""
        # A draft stored before these limits may already break some: its edits are admitted
        # as long as they break no limit at another place.
        self.tolerated = {pr.pointer for pr in _problems(graph)}
        self.size, self.depth = measure(graph) if not self.tolerated else (MAX_DOCUMENT_BYTES, MAX_NESTING)

    def admit(self, doc: Doc, update: bytes, shape: UpdateShape) -> None:
        """Raise UpdateRefused if applying `update` to `doc` would break a graph limit."""
        growth = _GROWTH_PER_BYTE * shape.size + _GROWTH_PER_UPDATE
        if not self._could_break(doc, shape, growth):
            # Upper bounds until the next measurement: the update may have nested its values
            # under the deepest container (where it put them is not known without a lookup).
            self.size += growth
            self.depth += shape.depth
            return
        self.trials += 1
        trial = Doc()
        trial.apply_update(doc.get_update())
        trial.apply_update(update)
        graph = graph_from_doc(trial)
        new = [pr for pr in _problems(graph) if pr.pointer not in self.tolerated]
        if new:
            where = f" at {new[0].pointer}" if new[0].pointer else ""
            raise UpdateRefused(f"the draft would break a limit{where}: {new[0].message}",
                                too_big="bytes" in new[0].message or "characters" in new[0].message)
        if not self.tolerated:
            self.size, self.depth = measure(graph)

    def _could_break(self, doc: Doc, shape: UpdateShape, growth: int) -> bool:
        if shape.text or self.depth + shape.depth > MAX_NESTING or self.size + growth > MAX_DOCUMENT_BYTES:
            return True
        return any(len(doc.get(root, type=Map)) + n > _ROOT_LIMITS[root]
                   for root, n in shape.new_keys.items() if root in _ROOT_LIMITS)
