"""data.transform: a pipeline of operations over an array (filter, map, pick, sort, limit, unique)."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from nodes.expressions import is_expression, truthy
from nodes.sdk import NodeConfig, NodeConfigError, NodeContext, NodeSpec, Port

MAX_ITEMS = 100_000

SPEC = NodeSpec(
    type="data.transform",
    version=1,
    title="Transform list",
    category="data",
    icon="filter",
    description="Filters, maps, sorts, limits and de-duplicates a list. "
                "Per-item expressions see the element as `item` and its position as `index`.",
    inputs=(Port("input", "any", "The list (unless `items` says otherwise)"),),
    outputs=(Port("output", "array", "The transformed list"),),
    # rendered here once per item, with item/index in scope
    raw_config_fields=("operations",),
)


class _Op(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Filter(_Op):
    op: Literal["filter"] = "filter"
    condition: str = Field(description="Keep items where this is true, e.g. {{ item.age >= 18 }}")


class Map(_Op):
    op: Literal["map"] = "map"
    fields: dict[str, Any] = Field(description="New field -> value or expression using item/index")
    keep: bool = Field(default=False, description="Keep the item's other fields")


class Pick(_Op):
    op: Literal["pick"] = "pick"
    fields: list[str] = Field(min_length=1, description="Fields to keep (dots reach nested fields)")


class Sort(_Op):
    op: Literal["sort"] = "sort"
    key: str = Field(default="", description="Field to sort by (dots for nested); empty sorts the items themselves")
    descending: bool = False


class Limit(_Op):
    op: Literal["limit"] = "limit"
    count: int = Field(ge=0, le=MAX_ITEMS, description="Keep at most this many items")
    offset: int = Field(default=0, ge=0, description="Skip this many items first")


class Unique(_Op):
    op: Literal["unique"] = "unique"
    key: str = Field(default="", description="Field that must be unique (dots for nested); empty compares whole items")


Operation = Annotated[Union[Filter, Map, Pick, Sort, Limit, Unique], Field(discriminator="op")]


class Config(NodeConfig):
    items: Any = Field(default=None, description="The list to transform, e.g. {{ nodes.fetch.output.body }}; default: the input")
    operations: list[Operation] = Field(default_factory=list, max_length=50, description="Applied in order")


def get_path(obj: Any, path: str) -> Any:
    for part in path.split(".") if path else ():
        if isinstance(obj, dict):
            obj = obj.get(part)
        elif isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        else:
            return None
    return obj


def _sort_key(value: Any) -> tuple:
    # None last, then numbers, then text, then anything else by its JSON: never a TypeError
    if value is None:
        return (3, 0)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    return (2, json.dumps(value, sort_keys=True, default=str))


def _apply(ctx: NodeContext, op: Any, items: list[Any], at: str) -> list[Any]:
    def per_item(value: Any, item: Any, i: int) -> Any:
        return ctx.render(value, extra={"item": item, "index": i})

    if isinstance(op, Filter):
        cond = op.condition if is_expression(op.condition) else "{{ " + op.condition + " }}"
        return [it for i, it in enumerate(items) if truthy(per_item(cond, it, i))]
    if isinstance(op, Map):
        out = []
        for i, it in enumerate(items):
            base = dict(it) if op.keep and isinstance(it, dict) else {}
            out.append({**base, **per_item(op.fields, it, i)})
        return out
    if isinstance(op, Pick):
        return [{f: get_path(it, f) for f in op.fields} for it in items]
    if isinstance(op, Sort):
        return sorted(items, key=lambda it: _sort_key(get_path(it, op.key)), reverse=op.descending)
    if isinstance(op, Limit):
        return items[op.offset: op.offset + op.count]
    if isinstance(op, Unique):
        seen: set[str] = set()
        out = []
        for it in items:
            marker = json.dumps(get_path(it, op.key), sort_keys=True, default=str)
            if marker not in seen:
                seen.add(marker)
                out.append(it)
        return out
    raise NodeConfigError(f"unknown operation {op!r}", pointer=at)


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    items = inputs.get("input") if config.items is None else config.items
    if not isinstance(items, list):
        raise NodeConfigError(f"expected a list to transform, got {type(items).__name__}", pointer="/items")
    if len(items) > MAX_ITEMS:
        raise NodeConfigError(f"list has {len(items)} items; the limit is {MAX_ITEMS}", pointer="/items")
    for n, op in enumerate(config.operations):
        try:
            # off the event loop: each item's expressions may spend up to the render budget
            items = await asyncio.to_thread(_apply, ctx, op, items, f"/operations/{n}")
        except NodeConfigError as e:
            e.pointer = e.pointer or f"/operations/{n}"
            raise
    return {"output": items}
