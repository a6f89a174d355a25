"""logic.for_each: runs the sub-path hanging off its `item` port once per list element.

The engine supplies ctx.run_each(item, index), which runs that sub-path and returns its
result; this node only decides how many run at once and keeps the results in list order."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import Field

from nodes.sdk import NodeConfig, NodeConfigError, NodeContext, NodeSpec, Port

MAX_ITEMS = 10_000

SPEC = NodeSpec(
    type="logic.for_each",
    version=1,
    title="For each",
    category="logic",
    icon="repeat",
    description="Runs the nodes connected to `item` once per element of a list (as `item` and `index` in "
                "their expressions), several at a time, and outputs their results in order on `results`.",
    inputs=(Port("input", "any", "The list (unless `items` says otherwise)"),),
    outputs=(Port("item", "any", "One element; the nodes after this port run once per element", each=True),
             Port("results", "array", "The result of each element's run, in list order")),
)


class Config(NodeConfig):
    items: Any = Field(default=None, description="The list to loop over, e.g. {{ nodes.fetch.output.body }}; "
                       "default: the input")
    concurrency: int = Field(default=4, ge=1, le=50, description="How many elements run at the same time")


def _first_leaf(group: BaseExceptionGroup) -> BaseException:
    exc: BaseException = group
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    items = inputs.get("input") if config.items is None else config.items
    if not isinstance(items, list):
        raise NodeConfigError(f"for each needs a list, got {type(items).__name__}", pointer="/items")
    if len(items) > MAX_ITEMS:
        raise NodeConfigError(f"list has {len(items)} items; the limit is {MAX_ITEMS}", pointer="/items")
    if ctx.run_each is None:  # nothing hangs off `item`: the results are the items themselves
        return {"results": list(items)}

    run_each = ctx.run_each
    gate = asyncio.Semaphore(config.concurrency)
    results: list[Any] = [None] * len(items)

    async def one(index: int, item: Any) -> None:
        async with gate:
            results[index] = await run_each(item, index)

    try:
        # a TaskGroup cancels the other elements as soon as one fails
        async with asyncio.TaskGroup() as group:
            for index, item in enumerate(items):
                group.create_task(one(index, item))
    except BaseExceptionGroup as group_error:
        # the engine expects the node's own error kinds (NodeConfigError...), not a group
        raise _first_leaf(group_error) from None
    return {"results": results}
