"""Triggers a template declares (`triggers` in the file, format 3): what an import creates
besides the draft.

    "triggers": [{"type": "schedule", "cron": {"$param": "schedule"}, "timezone": {"$param": "timezone"},
                  "input": {}, "description": "Nightly cleanup"},
                 {"type": "webhook", "allow_token": false, "description": "..."}]

`cron` and `timezone` are literal strings or a parameter's value (`{"$param": name}`); the
schedule's `input` may hold placeholders too. The gate (`check_triggers` in templates.format,
part of parse_template) checks literal crons and time zones with the scheduler's own rules
(flows.cron: Prefect's cron semantics) and that placeholders name a declared parameter. At import, `resolve_triggers` substitutes the parameters and checks the values,
so a bad cron in the parameters is a TemplateError naming that parameter, raised before
anything is stored. Nothing here creates, runs or fetches anything: backend/templates does
the creating, through backend.triggers.services, and creates schedules disabled.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from flows.cron import CronError, check_cron, check_timezone
from flows.pointer import pointer
from templates.format import (PLACEHOLDER, ScheduleTrigger, TemplateError, TemplateFile, WebhookTrigger,
                              substitute_value)


def _from_param(value: Any, field: str, values: dict[str, Any], i: int) -> str:
    """The literal, or the parameter's value checked as a cron / time zone, with an error naming
    the parameter (the user typed it, not the template's author)."""
    if isinstance(value, str):
        return value
    name = value[PLACEHOLDER]
    resolved = values.get(name)
    what = "a cron expression" if field == "cron" else "a time zone"
    try:
        if not isinstance(resolved, str):
            raise CronError(f"must be {what}")
        return check_cron(resolved) if field == "cron" else check_timezone(resolved)
    except CronError as exc:
        message = f"{exc} (the schedule of trigger {i} uses it as {what})"
        raise TemplateError(f"parameter {name}: {message}", pointer=pointer("params", name), code="params",
                            errors=[{"field": name, "pointer": pointer("params", name), "message": message}]) from None


def resolve_triggers(tpl: TemplateFile, values: dict[str, Any]) -> list[dict[str, Any]]:
    """The template's triggers with the (validated) parameters substituted and checked:
    `{"type": "schedule", "cron", "timezone", "input", "description"}` or
    `{"type": "webhook", "allow_token", "description"}`. Raises before anything is stored."""
    out: list[dict[str, Any]] = []
    for i, trig in enumerate(tpl.triggers):
        if isinstance(trig, ScheduleTrigger):
            out.append({"type": "schedule", "cron": _from_param(trig.cron, "cron", values, i),
                        "timezone": _from_param(trig.timezone, "timezone", values, i),
                        "input": substitute_value(trig.input, values), "description": trig.description})
        elif isinstance(trig, WebhookTrigger):
            out.append({"type": "webhook", "allow_token": trig.allow_token, "description": trig.description})
    return out


def _trigger_key(t: dict[str, Any]) -> tuple[Any, ...]:
    """What makes two resolved triggers the same one across template versions: a schedule's cron, zone and
    input; a webhook's token setting. A new description alone is not a new trigger."""
    if t["type"] == "schedule":
        return ("schedule", t["cron"], t["timezone"], json.dumps(t.get("input") or {}, sort_keys=True))
    return ("webhook", bool(t.get("allow_token")))


def trigger_changes(base: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]],
                                                                                       list[dict[str, Any]]]:
    """(added, dropped) between two lists of resolved triggers: those `theirs` declares that `base` does not
    have, and those of `base` that `theirs` no longer declares, each counted (a template may declare the same
    trigger twice)."""
    def minus(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[dict[str, Any]]:
        left = Counter(_trigger_key(t) for t in b)
        out = []
        for t in a:
            k = _trigger_key(t)
            if left[k]:
                left[k] -= 1
            else:
                out.append(t)
        return out

    return minus(theirs, base), minus(base, theirs)
