"""n8n nodes with a direct equivalent: triggers, Set / Edit Fields, No Op, Code, Wait and
Execute Workflow. Each mapper takes a NodeIn and returns a Mapped, or raises Unmapped.
Flow control (IF, Switch, Merge, Loop) is in templates/n8n/logic.py, services (HTTP, email,
webhook answers, schedules) in templates/n8n/services.py."""

from __future__ import annotations

import json
from typing import Any, Callable

from templates.n8n.expressions import is_expression
from templates.n8n.model import Mapped, NodeIn, TriggerNeed, Unmapped, json_short

MAX_DELAY_S = 30 * 86_400                 # util.delay's bound
_UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86_400}
_RESPOND = {"onReceived": "immediately", "lastNode": "when_done", "responseNode": "node"}
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

# The shim that gives n8n Code a `$input`, `items` and `$json` over our single input value, and
# turns its list of {json} items back into one value (one item) or a list (several).
CODE_SHIM = """\
// Imported from n8n: the shim below gives the original code $input, items and $json.
const items = (Array.isArray(input) ? input : [input]).map((json) => ({ json }));
const $input = { all: () => items, first: () => items[0], last: () => items[items.length - 1], item: items[0] };
const $json = items.length ? items[0].json : undefined;
const __n8n = await (async () => {
%s
})();
const __out = (Array.isArray(__n8n) ? __n8n : [__n8n]).map((i) => (i && typeof i === 'object' && 'json' in i ? i.json : i));
return __out.length === 1 ? __out[0] : __out;
"""


def manual_trigger(n: NodeIn) -> Mapped:
    return n.single("trigger.manual", {}, entry_port=None)


def webhook(n: NodeIn) -> Mapped:
    method = n.params.get("httpMethod", "GET")
    methods = [m for m in (method if isinstance(method, list) else [method]) if m in _METHODS]
    if not methods:
        raise Unmapped(f"HTTP method {method!r} is not one a webhook here accepts ({', '.join(_METHODS)})")
    path = n.params.get("path", "")
    m = n.single("trigger.webhook", {"methods": methods, "description": f"Imported from n8n (path {path!r})"[:2000]},
                 entry_port=None)
    respond = _RESPOND.get(n.params.get("responseMode", "onReceived"), "immediately")
    m.triggers.append(TriggerNeed("webhook", n.id, {"respond": respond,
                                                     "description": f"n8n webhook {n.name} (path {path!r})"[:2000]}))
    m.status = "partial"
    n.notes.append(f"the URL is /hooks/<id> (not n8n's path {path!r}) and callers sign requests or use ?token= "
                   "(docs/triggers.md)")
    if n.params.get("authentication") not in (None, "none"):
        n.notes.append("n8n's webhook authentication is replaced by the webhook's signature")
    n.ignored("options")
    return m


def _typed(value: Any, kind: str, n: NodeIn, where: str) -> Any:
    """A Set field: literals converted to their type as n8n does, expressions translated."""
    if is_expression(value):
        if kind != "string":
            n.notes.append(f"{where}: n8n converts the expression's result to {kind}; here it keeps its own type")
        return n.expr(value, where)
    if kind == "number" and isinstance(value, str):
        try:
            return json.loads(value) if value.strip() else None
        except ValueError:
            n.notes.append(f"{where}: {value!r} is not a number; kept as text")
    if kind in ("array", "object") and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            n.notes.append(f"{where}: {value!r} is not JSON; kept as text")
    if kind == "boolean" and isinstance(value, str):
        return value.strip().lower() == "true"
    return n.expr(value, where)


def set_node(n: NodeIn) -> Mapped:
    p, values = n.params, {}
    if n.version < 3:
        for kind in ("string", "number", "boolean"):
            for i, f in enumerate((p.get("values") or {}).get(kind) or []):
                values[str(f.get("name", ""))] = _typed(f.get("value", "" if kind == "string" else None), kind,
                                                        n, f"values.{kind}[{i}]")
        keep = not p.get("keepOnlySet", False)
    elif p.get("mode", "manual") == "raw":
        raw = p.get("jsonOutput", "")
        if is_expression(raw) or not isinstance(raw, str):
            raise Unmapped("raw JSON mode with an expression has no exact equivalent")
        try:
            values = json.loads(raw)
        except ValueError:
            raise Unmapped("raw JSON mode whose JSON does not parse") from None
        if not isinstance(values, dict):
            raise Unmapped("raw JSON mode whose JSON is not an object")
        values = n.expr(values, "jsonOutput")
        keep = _include(n)
    else:
        if "assignments" in p:
            for i, a in enumerate((p.get("assignments") or {}).get("assignments") or []):
                values[str(a.get("name", ""))] = _typed(a.get("value"), a.get("type", "string"), n,
                                                        f"assignments[{i}]")
        for i, f in enumerate((p.get("fields") or {}).get("values") or []):
            kind = str(f.get("type", "stringValue")).removesuffix("Value")
            values[str(f.get("name", ""))] = _typed(f.get(f"{kind}Value"), kind, n, f"fields.values[{i}]")
        keep = _include(n)
    dots = (p.get("options") or {}).get("dotNotation") is not False
    if not dots and any("." in k for k in values):
        n.notes.append("dot notation was off in n8n: a name like a.b sets a nested field here")
    if dots and any("[" in k for k in values):
        n.notes.append("a name like list[1] sets an array element in n8n; here it is a plain field name")
    return n.single("data.set", {"values": values, "keep_input": keep})


def _include(n: NodeIn) -> bool:
    p = n.params
    if n.version >= 3.3:
        if not p.get("includeOtherFields", False):
            return False
    include = p.get("include", "all")
    if include in ("selected", "except"):
        n.notes.append(f"include {include!r} ({p.get('includeFields') or p.get('excludeFields')}) is not "
                       "supported: every incoming field is kept")
    return include != "none"


def no_op(n: NodeIn) -> Mapped:
    return n.single("data.set", {"values": {}, "keep_input": True})


def code(n: NodeIn) -> Mapped:
    lang = n.params.get("language", "javaScript")
    if lang != "javaScript":
        raise Unmapped(f"Code in {lang} (only JavaScript has an equivalent: code.javascript)")
    if n.params.get("mode", "runOnceForAllItems") != "runOnceForAllItems":
        raise Unmapped("Code that runs once for each item has no equivalent")
    source = n.params.get("jsCode", "")
    m = n.single("code.javascript", {"code": CODE_SHIM % source}, ports=("output",))
    m.status = "partial"
    n.notes.append("the code runs in a shim giving $input, items and $json; $('Node'), $node, $now and other "
                   "n8n helpers are not there")
    return m


def wait(n: NodeIn) -> Mapped:
    p = n.params
    resume = p.get("resume", "timeInterval")
    if resume == "specificTime":
        until = p.get("dateTime")
        if is_expression(until):
            until = n.expr(until, "dateTime")
        return n.single("util.delay", {"until": until})
    if resume != "timeInterval":
        raise Unmapped(f"waiting for {resume!r} has no equivalent in util.delay")
    amount, unit = p.get("amount", 1), p.get("unit")
    if unit is None:
        unit = "hours" if n.version < 1.1 else "seconds"
        n.notes.append(f"the export has no unit; took n8n's default for version {n.version:g}: {unit}")
    if is_expression(amount) or not isinstance(amount, (int, float)) or unit not in _UNITS:
        raise Unmapped(f"a wait of {json_short(amount)} {unit} (only fixed amounts are mapped)")
    seconds = float(amount) * _UNITS[unit]
    if seconds > MAX_DELAY_S:
        raise Unmapped(f"a wait of {seconds:g} s is longer than util.delay's 30 days")
    return n.single("util.delay", {"seconds": seconds})


def execute_workflow(n: NodeIn) -> Mapped:
    p = n.params
    if p.get("source", "database") != "database":
        raise Unmapped(f"a sub-workflow from {p.get('source')!r} (only one stored in n8n's database maps)")
    wid = p.get("workflowId")
    if isinstance(wid, dict):              # resource locator {__rl, value, mode}
        wid = wid.get("value")
    wid = str(wid or "unknown")[:64]
    wait_done = (p.get("options") or {}).get("waitForSubWorkflow", True)
    m = n.single("flow.subworkflow", {"workflow_id": wid, "wait": bool(wait_done)})
    m.status = "partial"
    n.notes.append(f"workflow_id is n8n's id {wid!r}: import that workflow too and pick it here")
    return m


MAPPERS: dict[str, Callable[[NodeIn], Mapped]] = {
    "manualTrigger": manual_trigger, "webhook": webhook, "set": set_node, "noOp": no_op, "code": code,
    "wait": wait, "executeWorkflow": execute_workflow,
}
