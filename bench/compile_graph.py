"""Validate and compile a 1,000-node graph: a chain of data.set with logic.if branches
that rejoin through logic.merge every few nodes.

validate_graph and compile_graph (plan cache cleared before each iteration, so it really
compiles) against two baselines measured here: json.loads of the same document and
pydantic's GraphDocument.model_validate (the structural parse alone).
Target: compile_graph of 1,000 nodes under 50 ms (mean).

    .venv/bin/python -m bench.compile_graph [--quick]
"""

from __future__ import annotations

import json
from typing import Any

from bench.common import Options, Summary, main, ms, now, ratio, show, stats

TARGET_S = 0.050


def big_graph(n_nodes: int = 1000) -> dict[str, Any]:
    """trigger -> set -> ... with, every 10 nodes, if -> (yes, no) -> merge; exactly n_nodes nodes."""
    nodes: list[dict[str, Any]] = [{"id": "start", "type": "trigger.manual", "type_version": 1, "config": {}}]
    edges: list[dict[str, Any]] = []

    def add(nid: str, type_: str, config: dict[str, Any]) -> None:
        nodes.append({"id": nid, "type": type_, "type_version": 1, "config": config,
                      "position": {"x": 180.0 * len(nodes), "y": 0.0}, "label": nid})

    def link(src: str, dst: str, port: str = "output") -> None:
        edges.append({"id": f"{src}.{port}->{dst}", "source": src, "source_port": port, "target": dst,
                      "target_port": "input"})

    last, i = "start", 0
    while len(nodes) < n_nodes:
        i += 1
        if i % 10 == 0 and len(nodes) + 4 <= n_nodes:
            cond, yes, no, join = f"if_{i}", f"yes_{i}", f"no_{i}", f"merge_{i}"
            add(cond, "logic.if", {"condition": "{{ trigger.vip }}"})
            add(yes, "data.set", {"values": {"tier": "gold", "step": i}})
            add(no, "data.set", {"values": {"tier": "basic", "step": i}})
            add(join, "logic.merge", {"mode": "first"})
            link(last, cond)
            link(cond, yes, "true")
            link(cond, no, "false")
            link(yes, join)
            link(no, join)
            last = join
        else:
            nid = f"set_{i}"
            add(nid, "data.set", {"values": {"step": i, "name": "{{ trigger.name }}", "a.b": True},
                                  "keep_input": i % 2 == 0})
            link(last, nid)
            last = nid
    return {"schema_version": 1, "name": "bench-1000", "nodes": nodes, "edges": edges}


async def bench(opts: Options) -> list[Summary]:
    import flows.compile as compile_mod
    from flows.graph import GraphDocument
    from flows.validate import validate_graph
    from nodes.registry import build_registry

    registry = build_registry(with_plugins=False)
    doc = big_graph(1000)
    text = json.dumps(doc)
    n_nodes, n_edges = len(doc["nodes"]), len(doc["edges"])
    result = validate_graph(doc, registry)
    assert result.ok, [p.message for p in result.problems[:5]]
    iterations = 10 if opts.quick else 40
    print(f"\n[compile_graph] {n_nodes} nodes, {n_edges} edges, {len(text) / 1024:.0f} KiB of JSON, "
          f"{iterations} iterations each", flush=True)

    def measure(fn: Any, before: Any = None) -> list[float]:
        for _ in range(2):  # warm up
            if before:
                before()
            fn()
        times = []
        for _ in range(iterations):
            if before:
                before()
            t0 = now()
            fn()
            times.append(now() - t0)
        return times

    t_json = stats(measure(lambda: json.loads(text)))
    t_pyd = stats(measure(lambda: GraphDocument.model_validate(doc)))
    t_val = stats(measure(lambda: validate_graph(doc, registry)))
    t_comp = stats(measure(lambda: compile_mod.compile_graph(doc, registry), before=compile_mod._cache.clear))
    t_hit = stats(measure(lambda: compile_mod.compile_graph(doc, registry)))  # plan cache hit (a second start)

    rows = []
    for name, s in (("json.loads (baseline)", t_json), ("GraphDocument.model_validate (baseline)", t_pyd),
                    ("validate_graph", t_val), ("compile_graph (cache cleared)", t_comp),
                    ("compile_graph (plan cache hit)", t_hit)):
        rows.append([name, ms(s.mean), ms(s.p95), ratio(s.mean, t_json.mean), ratio(s.mean, t_pyd.mean)])
    show(f"compile_graph: {n_nodes}-node graph (target: compile under {ms(TARGET_S)})",
         ["step", "mean", "p95", "/ json.loads", "/ model_validate"], rows)
    met = t_comp.mean < TARGET_S
    print(f"compile_graph mean {ms(t_comp.mean)}, p95 {ms(t_comp.p95)}: target {'met' if met else 'MISSED'}")
    return [
        Summary("compile_graph", "validate_graph 1,000 nodes (mean / p95)", f"{ms(t_val.mean)} / {ms(t_val.p95)}",
                f"model_validate {ms(t_pyd.mean)}", ratio(t_val.mean, t_pyd.mean), "-", None),
        Summary("compile_graph", "compile_graph 1,000 nodes (mean / p95)", f"{ms(t_comp.mean)} / {ms(t_comp.p95)}",
                f"json.loads {ms(t_json.mean)}", ratio(t_comp.mean, t_json.mean), f"< {ms(TARGET_S)}", met),
    ]


if __name__ == "__main__":
    main(bench, __doc__ or "")
