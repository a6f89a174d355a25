"""Hypothesis strategies and a small registry of fake node types for graph tests.

The real node modules are built elsewhere; these fakes cover every port shape the
validator cares about: a trigger, one-in-one-out, two-way if, a multiple=True merge,
typed number/string ports and a for_each with an each=True port.
"""

from __future__ import annotations

from typing import Any, Literal

from hypothesis import strategies as st
from pydantic import BaseModel, Field

from nodes.registry import NodeRegistry
from nodes.sdk import NodeConfig, NodeSpec, NodeType, Port


async def _noop(ctx: Any, config: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    return {}


class EmptyConfig(NodeConfig):
    pass


class PassConfig(NodeConfig):
    count: int = Field(default=0, ge=0)
    url: str = Field(default="https://example.com", pattern=r"^https?://")
    mode: Literal["fast", "slow"] = "fast"
    tags: list[str] = Field(default_factory=list)


class Inner(BaseModel):
    size: int = 1


class NestedConfig(NodeConfig):
    inner: Inner = Field(default_factory=Inner)


def _spec(type_: str, version: int = 1, **kw: Any) -> NodeSpec:
    return NodeSpec(type=type_, version=version, title=type_, category="util", icon="box", description="", **kw)


def _node_type(spec: NodeSpec, config: type[BaseModel] = EmptyConfig) -> NodeType:
    return NodeType(spec=spec, config_model=config, execute=_noop)


TRIGGER = "test.trigger"
PASS = "test.pass"
IF = "test.if"
MERGE = "test.merge"
NUMBER = "test.number"       # outputs a number
STRING = "test.string"       # takes a string
FOR_EACH = "test.for_each"
NESTED = "test.nested"


def fake_registry() -> NodeRegistry:
    return NodeRegistry([
        _node_type(_spec(TRIGGER, inputs=(), trigger=True)),
        _node_type(_spec(PASS), PassConfig),
        _node_type(_spec(PASS, version=2), PassConfig),
        _node_type(_spec(IF, outputs=(Port("true"), Port("false")))),
        _node_type(_spec(MERGE, inputs=(Port("input", multiple=True),))),
        _node_type(_spec(NUMBER, outputs=(Port("output", "number"),))),
        _node_type(_spec(STRING, inputs=(Port("input", "string"),))),
        _node_type(_spec(FOR_EACH, outputs=(Port("item", each=True), Port("results", "array")))),
        _node_type(_spec(NESTED), NestedConfig),
    ])


REGISTRY = fake_registry()


# ------------------------------------------------------------------------ documents

def node(id: str, type: str = PASS, **kw: Any) -> dict[str, Any]:
    return {"id": id, "type": type, **kw}


def edge(id: str, source: str, target: str, source_port: str = "output", target_port: str = "input") -> dict[str, Any]:
    return {"id": id, "source": source, "source_port": source_port, "target": target, "target_port": target_port}


def document(nodes: list[dict[str, Any]], edges: list[dict[str, Any]] = (), **kw: Any) -> dict[str, Any]:
    return {"schema_version": 1, "name": "test", "nodes": list(nodes), "edges": list(edges), "notes": [], **kw}


def chain(n: int) -> dict[str, Any]:
    """trigger -> pass -> pass ... (n nodes in all)."""
    nodes = [node("n0", TRIGGER)] + [node(f"n{i}", PASS, config={"count": i}) for i in range(1, n)]
    edges = [edge(f"e{i}", f"n{i - 1}", f"n{i}") for i in range(1, n)]
    return document(nodes, edges)


node_ids = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_-]{0,10}\Z")

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)


@st.composite
def dags(draw: Any, max_nodes: int = 12) -> dict[str, Any]:
    """A valid DAG: node k's parents all come before it, every node hangs off the trigger.

    Node order in the document is shuffled, so nothing may rely on it."""
    n = draw(st.integers(1, max_nodes))
    ids = draw(st.lists(node_ids, min_size=n, max_size=n, unique=True))
    types = [TRIGGER] + [draw(st.sampled_from([PASS, IF, MERGE])) for _ in range(n - 1)]
    nodes = []
    for node_id, type_ in zip(ids, types):
        item = node(node_id, type_, type_version=1, position={"x": draw(st.integers(-500, 500)), "y": 0.5},
                    label=draw(st.text(max_size=5)), config={})
        if type_ == PASS:
            item["config"] = draw(st.fixed_dictionaries({}, optional={
                "count": st.integers(0, 9) | st.just("{{ trigger.count }}"),
                "url": st.just("https://x.test/{{ trigger.id }}"),
                "mode": st.sampled_from(["fast", "slow", "{{ trigger.mode }}"]),
            }))
        nodes.append(item)
    edges = []

    def out_port(k: int) -> str:
        return draw(st.sampled_from(["true", "false"])) if types[k] == IF else "output"

    for k in range(1, n):
        parents = [draw(st.integers(0, k - 1))]
        if types[k] == MERGE:
            parents += draw(st.lists(st.integers(0, k - 1), max_size=3))
        for p in parents:
            edges.append(edge(f"e{len(edges)}", ids[p], ids[k], out_port(p)))
    order = draw(st.permutations(range(n)))
    return document([nodes[k] for k in order], draw(st.permutations(edges)))


@st.composite
def cyclic_graphs(draw: Any) -> dict[str, Any]:
    """A DAG with 1-3 extra edges pointing back (self-loops included): at least one cycle."""
    doc = draw(dags(max_nodes=10))
    ids = [n["id"] for n in doc["nodes"]]
    # Back edges only between non-trigger nodes, so no trigger_input noise.
    inner = [n["id"] for n in doc["nodes"] if n["type"] != TRIGGER]
    if not inner:
        extra = "extra"
        doc["nodes"].append(node(extra, PASS))
        doc["edges"].append(edge("e_extra", ids[0], extra))
        inner = [extra]
    reach = reachability(doc)
    backs = draw(st.lists(st.tuples(st.sampled_from(inner), st.sampled_from(inner)), min_size=1, max_size=3))
    added = False
    for k, (a, b) in enumerate(backs):
        if a == b or a in reach[b]:  # b reaches a, so a -> b closes a cycle
            doc["edges"].append(edge(f"back{k}", a, b, target_port="input"))
            added = True
    if not added:
        a = backs[0][0]
        doc["edges"].append(edge("back_self", a, a))
    return doc


def reachability(doc: dict[str, Any]) -> dict[str, set[str]]:
    """Node id -> ids reachable by one or more edges (brute force, for small test graphs)."""
    succ: dict[str, set[str]] = {n["id"]: set() for n in doc["nodes"]}
    for e in doc["edges"]:
        succ[e["source"]].add(e["target"])
    result = {}
    for start in succ:
        seen: set[str] = set()
        todo = list(succ[start])
        while todo:
            x = todo.pop()
            if x not in seen:
                seen.add(x)
                todo.extend(succ[x])
        result[start] = seen
    return result


def nodes_on_cycles(doc: dict[str, Any]) -> set[str]:
    reach = reachability(doc)
    return {n for n, r in reach.items() if n in r}


@st.composite
def mutated_documents(draw: Any) -> Any:
    """A valid document with one value somewhere replaced by arbitrary JSON (or removed)."""
    doc = draw(dags(max_nodes=6))
    paths: list[tuple[Any, ...]] = [()]
    stack: list[tuple[Any, tuple[Any, ...]]] = [(doc, ())]
    while stack:
        value, path = stack.pop()
        children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, child in children:
            paths.append((*path, key))
            stack.append((child, (*path, key)))
    path = draw(st.sampled_from(paths))
    if not path:
        return draw(json_values)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(json_values)
    return doc
