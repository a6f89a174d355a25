"""code.javascript: a function body of `input` (and `trigger`, `nodes`) returning the output.

It runs in QuickJS, in a worker process (nodes/code/sandbox.py), with no I/O at all: no
`require`, `import()`, `process`, `fetch`, timers, file system or network. Data goes in and out
as JSON. `console.log` (and info, warn, error, debug) lines are captured into the node run: on
the `console` port when the code returns, in the error message when it fails.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import Field

from nodes.sdk import NodeConfig, NodeConfigError, NodeContext, NodeSpec, Port

SPEC = NodeSpec(
    type="code.javascript",
    version=1,
    title="JavaScript",
    category="code",
    icon="code",
    description=("Runs a JavaScript function body of `input`, `trigger` and `nodes` and outputs what it "
                 "returns (JSON). Sandboxed: no network, files or modules; limited time and memory."),
    inputs=(Port("input", "any", "The value the code receives as `input`"),),
    outputs=(Port("output", "any", "What the code returned (null for undefined)"),
             Port("console", "array", "The lines the code logged: [{level, message}]")),
    default_timeout_s=600.0,   # the code's own time limit (plus a grace) always comes first
    # JavaScript is full of braces: the code is never rendered as an expression
    raw_config_fields=("code",),
)

CONSOLE_IN_ERROR = 20          # the last console lines a failure's message carries


class Config(NodeConfig):
    code: str = Field(default="return input;", max_length=100_000,
                      description="The body of a function of input, trigger and nodes; `return` the output")
    time_limit_s: float = Field(default=5.0, gt=0, le=600,
                                description="CPU time the code may use (capped by MAILY_CODE_MAX_TIME_S)")
    memory_limit_mb: int = Field(default=64, ge=1, le=4096,
                                 description="Memory the code may use (capped by MAILY_CODE_MAX_MEMORY_MB)")


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    sandbox = ctx.services.code
    time_s = min(config.time_limit_s, sandbox.limits.max_time_s)
    memory_mb = min(config.memory_limit_mb, sandbox.limits.max_memory_mb)
    nodes = {nid: {"output": v.get("output"), "ports": v.get("ports")} for nid, v in
             (ctx.scope.get("nodes") or {}).items() if isinstance(v, dict)}
    args = {"input": inputs.get("input"), "trigger": ctx.scope.get("trigger"), "nodes": nodes}
    answer = await sandbox.run_js(config.code, args, time_s, memory_mb)
    console = answer.get("console") or []
    if answer.get("dropped"):
        console = [*console, {"level": "warn", "message": f"… {answer['dropped']} more line(s) not kept"}]
    if answer["ok"]:
        return {"output": json.loads(answer["result"]), "console": console}
    raise NodeConfigError(_message(answer, time_s, memory_mb) + _tail(console), pointer=_POINTERS.get(answer["kind"], "/code"))


_POINTERS = {"time_limit": "/time_limit_s", "memory_limit": "/memory_limit_mb"}


def _message(answer: dict[str, Any], time_s: float, memory_mb: int) -> str:
    kind, message = answer["kind"], answer.get("message", "")
    if kind == "time_limit":
        return f"time limit: the code ran longer than its {time_s:g} s ({message})"
    if kind == "memory_limit":
        return f"memory limit: the code needed more than its {memory_mb} MB ({message})"
    if kind == "syntax":
        where = re.search(r"<input>:(\d+):(\d+)", message)
        # the function body starts on line 3 of the source QuickJS compiles
        at = f" (line {max(1, int(where[1]) - 2)}, column {where[2]})" if where else ""
        return f"the code does not parse: {message.splitlines()[0]}{at}"
    if kind == "worker":
        return f"the code could not run: {message}"
    return f"the code failed: {message}"


def _tail(console: list[dict[str, str]]) -> str:
    if not console:
        return ""
    lines = [f"[{c.get('level')}] {c.get('message')}" for c in console[-CONSOLE_IN_ERROR:]]
    return "\nconsole:\n" + "\n".join(lines)
