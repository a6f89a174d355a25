"""ai.optimize_timing: the best send time for a recipient from past opens and their time zone.

The baseline (the most frequent local open hour, and weekday with enough history) is
always computed; a model may pick another hour/weekday from the same histogram, validated
to be in range, and the send time is always computed here, never taken from the model.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field

from nodes.ai import offline
from nodes.ai.common import DATA_RULE, data, parse_json_object
from nodes.ai.gateway import InvalidOutput, Task, baseline_output, gateway_of
from nodes.sdk import NodeConfig, NodeConfigError, NodeContext, NodeSpec, Port

SPEC = NodeSpec(
    type="ai.optimize_timing",
    version=1,
    title="Optimize send time",
    category="ai",
    icon="clock",
    description="Picks the next best send time (UTC) for a recipient from the times they opened past emails, "
                "in their time zone. Without AI: their most frequent local open hour.",
    inputs=(Port("input", "any", "Available to expressions as `input`"),),
    outputs=(Port("output", "object", "{result: {send_at, local_hour, weekday, timezone, ...}, ai: {...}}"),),
    side_effects=True,
    side_effect_kind="none",   # a provider call: costs budget, changes nothing a repeat would duplicate
    default_timeout_s=90.0,
)


class Config(NodeConfig):
    opens: list[Any] = Field(default_factory=list, description="Past open times (ISO 8601 or Unix seconds), "
                                                             "e.g. {{ input.opens }}")
    timezone: str = Field(default="UTC", max_length=64, description="The recipient's IANA time zone")
    default_hour: int = Field(default=10, ge=0, le=23, description="Local hour used when there is no history")
    now: str = Field(default="", description="Compute from this time (ISO 8601) instead of the run's clock")


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(config.opens, list):
        raise NodeConfigError("opens must be a list of times", pointer="/opens")
    now = offline._parse_ts(config.now) if config.now else ctx.clock.now()
    if now is None:
        raise NodeConfigError("now is not an ISO 8601 time", pointer="/now")
    opens = config.opens[-5000:]
    tz = offline.zone(config.timezone)
    baseline = offline.best_send_time(opens, config.timezone, now, config.default_hour)
    hours, days, n = offline.open_histogram(opens, tz)

    def parse(answer: str) -> dict[str, Any]:
        value = parse_json_object(answer)
        hour, weekday = value.get("hour"), value.get("weekday")
        if not isinstance(hour, int) or not 0 <= hour <= 23:
            raise InvalidOutput("hour must be an integer 0-23")
        if weekday is not None and (not isinstance(weekday, int) or not 0 <= weekday <= 6):
            raise InvalidOutput("weekday must be null or an integer 0-6")
        send_at = offline.next_slot(now, tz, hour, weekday)
        return {**baseline, "send_at": send_at.isoformat().replace("+00:00", "Z"), "local_hour": hour,
                "weekday": weekday, "confidence": round(hours[hour] / n, 3) if n else 0.0}

    if n == 0:   # nothing to learn from: no call, no cost
        return {"output": baseline_output(baseline, "no_history")}
    stats = {"opens_by_local_hour": dict(sorted(hours.items())), "opens_by_weekday_0_is_monday": dict(sorted(days.items())),
             "timezone": tz.key}
    task = Task(node_type=SPEC.type,
                system=f"You choose the best email send time. {DATA_RULE}\nAnswer with one JSON object "
                       '{"hour": 0-23 local hour, "weekday": 0-6 or null} and nothing else.',
                prompt=data(json.dumps(stats)), json_mode=True, max_tokens=40, parse=parse, baseline=lambda: baseline)
    return {"output": await gateway_of(ctx).run(ctx, task)}
