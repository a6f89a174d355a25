"""Node types only the engine tests use: they record what happened, fail on cue, or hang.

They sit beside the built-in catalogue in `registry()`, so tests mix them with real nodes."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import Field

from nodes.registry import build_registry
from nodes.sdk import NodeConfig, NodeConfigError, NodeSpec, NodeTemporaryError, NodeType, Port

EXECUTIONS: list[tuple[str, str, int | None]] = []   # (run_id, node_id, iteration) in start order


class RecordConfig(NodeConfig):
    tag: str = ""


async def _record(ctx, config, inputs):
    EXECUTIONS.append((ctx.run_id, ctx.node_id, ctx.scope.get("index")))
    await asyncio.sleep(0)
    return {"output": {"node": ctx.node_id, "inputs": inputs.get("input", [])}}


RECORD = NodeType(
    spec=NodeSpec(type="test.record", version=1, title="Record", category="util", icon="dot",
                  description="records its execution", inputs=(Port("input", multiple=True),)),
    config_model=RecordConfig, execute=_record)


class FlakyConfig(NodeConfig):
    fail_times: int = 0
    kind: str = Field(default="temporary")
    retry_after: float | None = None


ATTEMPTS: dict[tuple[str, str], int] = {}


async def _flaky(ctx, config, inputs):
    key = (ctx.run_id, ctx.node_id)
    ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
    if ATTEMPTS[key] <= config.fail_times:
        if config.kind == "temporary":
            raise NodeTemporaryError("upstream answered 503", retry_after=config.retry_after)
        if config.kind == "config":
            raise NodeConfigError("the url is wrong", pointer="/url")
        if config.kind == "hang":
            await asyncio.sleep(3600)
        raise ZeroDivisionError("a bug")
    return {"output": {"attempts": ATTEMPTS[key]}}


FLAKY = NodeType(
    spec=NodeSpec(type="test.flaky", version=1, title="Flaky", category="util", icon="dot",
                  description="fails on cue", side_effects=False, default_timeout_s=5),
    config_model=FlakyConfig, execute=_flaky)

FLAKY_DURABLE = NodeType(
    spec=NodeSpec(type="test.flaky_durable", version=1, title="Flaky (durable)", category="util", icon="dot",
                  description="fails on cue, with side effects", side_effects=True, default_timeout_s=5),
    config_model=FlakyConfig, execute=_flaky)


GATES: dict[str, asyncio.Event] = {}   # test.gate waits for GATES[key] to be set


class GateConfig(NodeConfig):
    key: str = "gate"


async def _gate(ctx, config, inputs):
    await GATES.setdefault(config.key, asyncio.Event()).wait()
    return {"output": {"passed": config.key}}


GATE = NodeType(
    spec=NodeSpec(type="test.gate", version=1, title="Gate", category="util", icon="dot",
                  description="waits until its gate opens, with side effects", side_effects=True, default_timeout_s=30),
    config_model=GateConfig, execute=_gate)


def registry():
    reg = build_registry(with_plugins=False)
    for t in (RECORD, FLAKY, FLAKY_DURABLE, GATE):
        reg.add(t)
    return reg


def node(id: str, type: str, **config: Any) -> dict[str, Any]:
    return {"id": id, "type": type, "type_version": 1, "config": config}


def edge(source: str, target: str, source_port: str = "output", target_port: str = "input") -> dict[str, Any]:
    return {"id": f"{source}.{source_port}->{target}", "source": source, "source_port": source_port,
            "target": target, "target_port": target_port}


def graph(nodes: list[dict[str, Any]], edges: list[dict[str, Any]], name: str = "test") -> dict[str, Any]:
    return {"schema_version": 1, "name": name, "nodes": nodes, "edges": edges}
