"""n8n flow control: IF, Switch, Merge and Loop Over Items (Split In Batches) onto logic.if,
logic.switch, logic.merge and logic.for_each."""

from __future__ import annotations

import json
import re
from typing import Any

from templates.n8n.expressions import is_expression, whole_path
from templates.n8n.model import Mapped, NodeIn, Unmapped

MAX_CASES = 8                      # logic.switch's static ports
# n8n operation (IF v1 / Switch v1-2 names, and filter names of IF v2 / Switch v3) -> our operator
_OPS = {
    "equal": "eq", "equals": "eq", "notEqual": "ne", "notEquals": "ne",
    "smaller": "lt", "lt": "lt", "smallerEqual": "lte", "lte": "lte",
    "larger": "gt", "gt": "gt", "largerEqual": "gte", "gte": "gte",
    "contains": "contains", "notContains": "not_contains", "startsWith": "starts_with", "endsWith": "ends_with",
    "isEmpty": "is_empty", "empty": "is_empty", "isNotEmpty": "is_not_empty", "notEmpty": "is_not_empty",
}
_V1_DEFAULT_OP = {"number": "smaller", "string": "equal", "boolean": "equal"}
_JINJA_OPS = {"eq": "{l} == {r}", "ne": "{l} != {r}", "gt": "{l} > {r}", "gte": "{l} >= {r}", "lt": "{l} < {r}",
              "lte": "{l} <= {r}", "contains": "{r} in {l}", "not_contains": "{r} not in {l}"}
_SAFE_TEXT = re.compile(r'^[\x20-\x7e]*$')


def _operand(n: NodeIn, value: Any, kind: str, where: str) -> Any:
    """A compare operand: a translated expression, or the literal as n8n types it."""
    if is_expression(value):
        return n.expr(value, where)
    if kind == "number" and isinstance(value, str) and value.strip():
        try:
            return json.loads(value)
        except ValueError:
            return value
    if kind == "boolean" and isinstance(value, str):
        return value.strip().lower() == "true"
    return value


def _conditions(n: NodeIn, conds: Any) -> tuple[list[tuple[Any, str, Any, str]], str]:
    """[(left, op, right, kind)] and "and"/"or" of an IF v2 / Switch v3 filter."""
    conds = conds or {}
    if (conds.get("options") or {}).get("caseSensitive") is False:
        n.notes.append("case-insensitive comparison is not supported: compared case-sensitively")
    out = []
    for i, c in enumerate(conds.get("conditions") or []):
        op = c.get("operator") or {}
        kind, operation = op.get("type", "string"), op.get("operation", "equals")
        if kind == "boolean" and operation in ("true", "false"):
            out.append((c.get("leftValue"), "eq", operation == "true", kind))
            continue
        if operation not in _OPS:
            raise Unmapped(f"condition {i}: operation {kind}/{operation} has no equivalent")
        out.append((c.get("leftValue"), _OPS[operation], c.get("rightValue"), kind))
    return out, conds.get("combinator", "and")


def _v1_conditions(n: NodeIn) -> tuple[list[tuple[Any, str, Any, str]], str]:
    groups = n.params.get("conditions") or {}
    out = []
    for kind, items in groups.items():
        if kind not in _V1_DEFAULT_OP:
            raise Unmapped(f"{kind} conditions have no equivalent")
        for i, c in enumerate(items or []):
            operation = c.get("operation", _V1_DEFAULT_OP[kind])
            if operation not in _OPS:
                raise Unmapped(f"{kind} condition {i}: operation {operation} has no equivalent")
            default = {"number": 0, "string": "", "boolean": False}[kind]
            out.append((c.get("value1", default), _OPS[operation], c.get("value2", default), kind))
    return out, "and" if n.params.get("combineOperation", "all") == "all" else "or"


def _jinja_literal(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None or isinstance(v, (int, float)):
        return json.dumps(v) if v is not None else "none"
    if isinstance(v, str) and _SAFE_TEXT.match(v) and '"' not in v and "\\" not in v:
        return json.dumps(v)
    raise Unmapped(f"the value {v!r} cannot be written as a Jinja literal")


def _jinja(n: NodeIn, v: Any, kind: str) -> str:
    if is_expression(v):
        path = whole_path(v, n.scope)
        if path is None:
            raise Unmapped(f"the operand {v!r} is not a plain field reference")
        return path
    return _jinja_literal(_operand(n, v, kind, ""))


def if_node(n: NodeIn) -> Mapped:
    conds, combinator = _v1_conditions(n) if n.version < 2 else _conditions(n, n.params.get("conditions"))
    if not conds:
        raise Unmapped("an IF without conditions")
    if len(conds) == 1:
        left, op, right, kind = conds[0]
        config = {"mode": "compare", "left": _operand(n, left, kind, "left"), "op": op,
                  "right": None if op in ("is_empty", "is_not_empty") else _operand(n, right, kind, "right")}
    else:
        parts = []
        for left, op, right, kind in conds:
            if op not in _JINJA_OPS:
                raise Unmapped(f"{op} inside a combined condition has no exact Jinja form")
            parts.append("(" + _JINJA_OPS[op].format(l=_jinja(n, left, kind), r=_jinja(n, right, kind)) + ")")
        config = {"mode": "expression", "condition": "{{ " + f" {combinator} ".join(parts) + " }}"}
        n.notes.append(f"{len(conds)} conditions combined with {combinator} in one Jinja expression (compares "
                       "types strictly: the text '5' is not the number 5)")
    return n.single("logic.if", config, ports=("true", "false"))


def switch(n: NodeIn) -> Mapped:
    p = n.params
    if p.get("mode", "rules") != "rules":
        raise Unmapped("a Switch in expression mode (the output index computed) has no equivalent")
    cases, outputs, value, match_all = [], [], None, False
    if n.version < 3:
        kind = p.get("dataType", "number")
        value = _operand(n, p.get("value1"), kind, "value1")
        for i, r in enumerate((p.get("rules") or {}).get("rules") or []):
            op = r.get("operation", "equal")
            if op not in _OPS:
                raise Unmapped(f"rule {i}: operation {op} has no equivalent")
            cases.append({"op": _OPS[op], "value": _operand(n, r.get("value2"), kind, f"rules[{i}]")})
            outputs.append(int(r.get("output", 0)))
        fallback = p.get("fallbackOutput", -1)
        fallback = None if fallback in (-1, "-1", None) else int(fallback)
    else:
        lefts = set()
        for i, r in enumerate((p.get("rules") or {}).get("values") or []):
            conds, _ = _conditions(n, r.get("conditions"))
            if len(conds) != 1:
                raise Unmapped(f"rule {i} has {len(conds)} conditions; a case here tests one")
            left, op, right, kind = conds[0]
            lefts.add(json.dumps(left))
            value = _operand(n, left, kind, "value")
            case = {"op": op, "value": _operand(n, right, kind, f"rules[{i}]")}
            if r.get("renameOutput") and r.get("outputKey"):
                case["label"] = str(r["outputKey"])[:100]
            cases.append(case)
            outputs.append(i)
        if len(lefts) > 1:
            raise Unmapped("the rules test different values; cases here all test one value")
        opts = p.get("options") or {}
        fallback = opts.get("fallbackOutput", "none")
        fallback = None if fallback == "none" else len(cases) if fallback == "extra" else int(fallback)
        match_all = bool(opts.get("allMatchingOutputs"))
    if not cases or len(cases) > MAX_CASES:
        raise Unmapped(f"a Switch with {len(cases)} rules (1 to {MAX_CASES} map)")
    config = {"value": value, "cases": cases, "match": "all" if match_all else "first"}
    m = n.single("logic.switch", config, ports=())
    for i, out in enumerate(outputs):
        m.outputs.setdefault(out, []).append((n.id, f"case_{i + 1}"))
    if fallback is not None:
        m.outputs.setdefault(fallback, []).append((n.id, "default"))
    return m


def merge(n: NodeIn) -> Mapped:
    p = n.params
    mode = p.get("mode", "append")
    if mode == "combine" and n.version < 3:
        mode = {"mergeByPosition": "combineByPosition"}.get(p.get("combinationMode", "mergeByFields"), "byFields")
    if mode in ("append",):
        ours, note = "all", "n8n emits input 1's items then input 2's; here the output is one list of the inputs"
    elif mode in ("mergeByIndex", "combineByPosition"):
        ours, note = "combine", "objects are merged field by field, the later input winning a clash"
    elif mode in ("passThrough", "wait", "chooseBranch"):
        ours, note = "all", f"mode {mode}: here the output is the list of both inputs; pick the one you need"
    else:
        raise Unmapped(f"Merge mode {mode!r} has no equivalent")
    if (p.get("numberInputs") or 2) != 2:
        n.notes.append(f"{p.get('numberInputs')} inputs: every one goes to the one input port, in order")
    n.notes.append(note)
    m = n.single("logic.merge", {"mode": ours})
    m.status = "partial"
    return m


def split_in_batches(n: NodeIn) -> Mapped:
    size = n.params.get("batchSize", 10 if n.version < 3 else 1)
    ports = ("item",) if n.version < 3 else ("results", "item")
    m = n.single("logic.for_each", {"concurrency": 1}, ports=ports)
    m.loop_back = True
    if size != 1:
        n.notes.append(f"batches of {size}: the loop here runs once per item")
    if n.version < 3:
        n.notes.append("v1/v2 loop: its one output is the per-item path; the edge closing the loop is dropped")
    return m


MAPPERS = {"if": if_node, "switch": switch, "merge": merge, "splitInBatches": split_in_batches}
