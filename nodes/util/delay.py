"""util.delay: waits for a duration or until a moment, then passes the input on."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import Field

from nodes.sdk import NodeConfig, NodeConfigError, NodeContext, NodeSpec, NodeSuspended, Port

MAX_DELAY_S = 30 * 86_400

SPEC = NodeSpec(
    type="util.delay",
    version=1,
    title="Delay",
    category="util",
    icon="clock",
    description=("Waits a number of seconds, or until a date and time (at most 30 days), then continues. "
                 "Long waits suspend the run: no process is held while it waits."),
    inputs=(Port("input", "any", "Passed on unchanged after the wait"),),
    outputs=(Port("output", "any", "The input, after the wait"),),
    waits=True,
    default_timeout_s=MAX_DELAY_S + 3_600,  # the wait itself must not hit the attempt time limit
)


class Config(NodeConfig):
    seconds: float | None = Field(default=None, ge=0, le=MAX_DELAY_S, description="How long to wait, in seconds")
    until: datetime | None = Field(default=None, description="Or: wait until this ISO date-time (UTC when no offset)")


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    if (config.seconds is None) == (config.until is None):
        raise NodeConfigError("set either seconds or until", pointer="/seconds")
    now = ctx.clock.now()
    if config.until is not None:
        until = config.until if config.until.tzinfo else config.until.replace(tzinfo=timezone.utc)
        wait = (until - now).total_seconds()
        if wait > MAX_DELAY_S:
            raise NodeConfigError(f"{until.isoformat()} is more than 30 days away", pointer="/until")
    else:
        wait = config.seconds or 0.0
        until = now + timedelta(seconds=wait)
    if ctx.suspend_after_s is not None and wait > ctx.suspend_after_s:
        # a long wait holds no task: the run is suspended and resumed at that moment with
        # the input passed through (see docs/engine.md, run control)
        raise NodeSuspended(until, "delay",   # the very moment asked for (a send_at stays exact)
                            result={"output": inputs.get("input")})
    if wait > 0:
        await ctx.clock.sleep(wait)
    return {"output": inputs.get("input")}
