"""Graph algorithms the validator and the compiler share; iterative throughout, since
graphs of 5,000 nodes overflow Python's recursion limit."""

from __future__ import annotations

import heapq
from collections import deque
from typing import Hashable, Iterable, Mapping, TypeVar

from flows.graph import GraphDocument

H = TypeVar("H", bound=Hashable)

def reachable(starts: Iterable[H], successors: Mapping[H, Iterable[H]]) -> set[H]:
    """Every node reachable from starts (starts included), breadth first."""
    seen = set(starts)
    queue = deque(seen)
    while queue:
        for nxt in successors.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def strongly_connected_components(successors: dict[int, list[int]]) -> list[list[int]]:
    """Tarjan's algorithm with an explicit stack (graphs of 5,000 nodes overflow recursion)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    components: list[list[int]] = []
    counter = 0
    for root in successors:
        if root in index:
            continue
        work = [(root, iter(successors[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(successors[child])))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    return components


def one_cycle(members: list[int], successors: dict[int, list[int]]) -> list[int]:
    """A shortest cycle through the first member, staying inside its component."""
    inside = set(members)
    start = members[0]
    previous: dict[int, int] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in successors[node]:
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if nxt in inside and nxt not in previous:
                previous[nxt] = node
                queue.append(nxt)
    return [start, start]  # unreachable for a real component


def topological_order(doc: GraphDocument) -> list[str]:
    """Node ids in dependency order (Kahn); ties broken by document order, so stable.

    Edges naming missing nodes are ignored. Raises ValueError on a cycle."""
    position = {}
    for i, node in enumerate(doc.nodes):
        position.setdefault(node.id, i)
    ids = {i: node_id for node_id, i in position.items()}
    indegree = dict.fromkeys(ids, 0)
    successors: dict[int, list[int]] = {i: [] for i in ids}
    for edge in doc.edges:
        src, dst = position.get(edge.source), position.get(edge.target)
        if src is not None and dst is not None:
            successors[src].append(dst)
            indegree[dst] += 1
    ready = [i for i, d in indegree.items() if d == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(ids[i])
        for nxt in successors[i]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                heapq.heappush(ready, nxt)
    if len(order) != len(ids):
        raise ValueError("the graph has a cycle")
    return order
