"""The template file: metadata, a parameter schema and a graph with placeholders.

    {"format_version": 3, "id": "user-onboarding", "version": 3,
     "title": "...", "description": "...", "category": "onboarding", "tags": [...], "icon": "user-plus",
     "parameters": {JSON Schema of an object},
     "ai_enhancements": [{"node": "welcome", "kind": "personalize", "description": "..."}],
     "sample_input": {...},
     "triggers": [{"type": "schedule", "cron": {"$param": "schedule"}, "timezone": "UTC"}, {"type": "webhook"}],
     "graph": {graph document, schema_version 1, config values may be {"$param": "name"}}}

Three versions: `format_version` (this file's layout, FORMAT_VERSION), `version` (the
template's own, bumped by its author) and `graph.schema_version` (flows.graph).
Older files are upgraded by templates.migrate before they reach `parse_template`.

`parse_template(raw, registry)` is the one strict gate for every template that enters the
system (gallery files, uploads, pasted JSON, "save as template"): unknown keys, limits,
prototype-polluting keys, duplicate ids, node types outside the catalogue, placeholders
naming no parameter, trigger declarations with a bad cron or time zone (check_triggers)
and parameter schemas that would fetch anything are refused with a
`TemplateError` naming the place. Nothing is rendered, executed, fetched or resolved.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from jsonschema import FormatChecker
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from flows.cron import CronError, check_cron, check_timezone
from flows.graph import MAX_NESTING, SCHEMA_VERSION, GraphDocument
from flows.pointer import pointer
from flows.validate import validate_graph
from nodes.user_schema import SchemaError, check_user_schema, user_schema_errors

FORMAT_VERSION = 3

# Limits of one template (stricter than a graph's: templates come from strangers).
MAX_TEMPLATE_BYTES = 2 * 1024 * 1024
MAX_TEMPLATE_DEPTH = MAX_NESTING + 1      # the graph sits one level inside the template
MAX_TEMPLATE_NODES = 500
MAX_TEMPLATE_EDGES = 2_000
MAX_TEMPLATE_STRING = 20_000              # characters of any one string (key or value)
MAX_PARAMETERS = 50
MAX_TRIGGERS = 10
MAX_PATTERN = 200                         # a `pattern` in a parameter schema (bounded regex cost)
FORBIDDEN_KEYS = frozenset({"__proto__", "constructor", "prototype"})
SLUG = r"^[a-z0-9][a-z0-9-]{0,63}$"
PARAM_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
PLACEHOLDER = "$param"


class TemplateError(ValueError):
    """A template refused: `status` is the HTTP status, `pointer` a JSON pointer into the file."""

    def __init__(self, message: str, *, pointer: str = "", code: str = "invalid", status: int = 422,
                 errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message, self.pointer, self.code, self.status = message, pointer, code, status
        self.errors = errors or []


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AIEnhancement(_Strict):
    """A node where a real model improves on the offline baseline (tier premium and up)."""

    node: str = Field(min_length=1, max_length=64, description="The node id in the graph")
    kind: Literal["personalize", "generate", "summarize", "classify", "extract", "timing"]
    description: str = Field(default="", max_length=500)
    tier: Literal["free", "premium", "enterprise"] = Field(default="premium",
                                                            description="Lowest tier where a model is used")


Placeholder = dict[str, str]   # exactly {"$param": "<name>"}; checked by templates.triggers


class ScheduleTrigger(_Strict):
    """Run the imported workflow on a cron schedule. `cron` and `timezone` are literal or a
    parameter's value; the schedule is created disabled (templates.triggers)."""

    type: Literal["schedule"]
    cron: str | Placeholder = Field(description="Five fields or @daily..., or {\"$param\": name}")
    timezone: str | Placeholder = Field(default="UTC", description="IANA name, or {\"$param\": name}")
    input: dict[str, Any] = Field(default_factory=dict, description="The input of each scheduled run")
    description: str = Field(default="", max_length=500)


class WebhookTrigger(_Strict):
    """Give the imported workflow a webhook URL (its secret is shown once, in the import answer)."""

    type: Literal["webhook"]
    allow_token: bool = False
    description: str = Field(default="", max_length=500)


Trigger = Annotated[Union[ScheduleTrigger, WebhookTrigger], Field(discriminator="type")]


class TemplateFile(_Strict):
    format_version: Literal[3] = FORMAT_VERSION
    id: str = Field(pattern=SLUG, description="Stable slug of the template")
    version: int = Field(ge=1, le=1_000_000, description="The template's own version, bumped on each change")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5_000)
    category: str = Field(default="general", pattern=SLUG)
    tags: list[str] = Field(default_factory=list, max_length=20)
    icon: str = Field(default="workflow", max_length=40, pattern=r"^[a-z0-9-]{1,40}$")
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    ai_enhancements: list[AIEnhancement] = Field(default_factory=list, max_length=100)
    sample_input: dict[str, Any] = Field(default_factory=dict)
    triggers: list[Trigger] = Field(default_factory=list, max_length=MAX_TRIGGERS,
                                    description="Triggers an import creates (templates.triggers)")
    graph: dict[str, Any]


def check_shape(raw: Any) -> None:
    """Depth, string length and forbidden keys of an already parsed value, iteratively."""
    stack: list[tuple[Any, list[Any]]] = [(raw, [])]
    while stack:
        value, path = stack.pop()
        if len(path) > MAX_TEMPLATE_DEPTH:
            raise TemplateError(f"the template nests deeper than {MAX_TEMPLATE_DEPTH} levels", pointer=pointer(*path),
                                code="too_deep", status=400)
        if isinstance(value, str):
            if len(value) > MAX_TEMPLATE_STRING:
                raise TemplateError(f"a string of {len(value):,} characters; the limit is {MAX_TEMPLATE_STRING:,}",
                                    pointer=pointer(*path), code="limit")
        elif isinstance(value, dict):
            for key, child in value.items():
                if not isinstance(key, str):
                    raise TemplateError("object keys must be strings", pointer=pointer(*path), code="schema")
                if key in FORBIDDEN_KEYS:
                    raise TemplateError(f"the key {key!r} is not allowed anywhere in a template",
                                        pointer=pointer(*path, key), code="forbidden_key")
                if len(key) > MAX_TEMPLATE_STRING:
                    raise TemplateError("a key is too long", pointer=pointer(*path), code="limit")
                stack.append((child, [*path, key]))
        elif isinstance(value, list):
            stack.extend((child, [*path, i]) for i, child in enumerate(value))


def _real_loc(loc: tuple[Any, ...], raw: Any) -> list[Any]:
    """The location in the input: without the tag pydantic inserts for a discriminated union
    (`triggers/0/schedule/cron` is `/triggers/0/cron` in the file)."""
    out: list[Any] = []
    for part in loc:
        if isinstance(raw, dict) and part not in raw and raw.get("type") == part:
            continue
        out.append(part)
        raw = raw.get(part) if isinstance(raw, dict) else (raw[part] if isinstance(raw, list) and isinstance(
            part, int) and part < len(raw) else None)
    return out


def _pydantic_error(exc: PydanticValidationError, prefix: list[Any], raw: Any = None) -> TemplateError:
    errors = [{"pointer": pointer(*prefix, *_real_loc(e["loc"], raw)), "message": e["msg"]}
              for e in exc.errors(include_url=False, include_input=False, include_context=False)]
    first = errors[0]
    where = first["pointer"] or "/"
    return TemplateError(f"{where}: {first['message']}", pointer=first["pointer"], code="schema", errors=errors)


def check_parameter_schema(schema: dict[str, Any]) -> None:
    """A JSON Schema of an object whose properties are the parameters. References may only
    point inside the schema (`#...`): nothing is ever fetched."""
    if schema.get("type") != "object" or not isinstance(schema.get("properties", {}), dict):
        raise TemplateError("parameters must be a JSON Schema with type 'object' and 'properties'",
                            pointer="/parameters", code="parameters")
    props = schema.get("properties", {})
    if len(props) > MAX_PARAMETERS:
        raise TemplateError(f"at most {MAX_PARAMETERS} parameters", pointer="/parameters/properties",
                            code="parameters")
    import re
    for name in props:
        if not re.fullmatch(PARAM_NAME, name):
            raise TemplateError(f"parameter name {name!r} must match {PARAM_NAME}",
                                pointer=pointer("parameters", "properties", name), code="parameters")
    stack: list[tuple[Any, list[Any]]] = [(schema, ["parameters"])]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict):
            for key, child in value.items():
                if key in ("$ref", "$dynamicRef", "$recursiveRef") and not (isinstance(child, str)
                                                                           and child.startswith("#")):
                    raise TemplateError(f"{key} may only point inside the schema ('#...'); nothing is fetched",
                                        pointer=pointer(*path, key), code="parameters")
                if key in ("$id", "$schema", "$anchor", "$dynamicAnchor") and path[-1:] != ["properties"]:
                    raise TemplateError(f"{key} is not allowed in a parameter schema", pointer=pointer(*path, key),
                                        code="parameters")
                if key == "pattern" and isinstance(child, str) and len(child) > MAX_PATTERN:
                    raise TemplateError(f"a pattern longer than {MAX_PATTERN} characters",
                                        pointer=pointer(*path, key), code="parameters")
                stack.append((child, [*path, key]))
        elif isinstance(value, list):
            stack.extend((c, [*path, i]) for i, c in enumerate(value))
    try:
        check_user_schema(schema)
    except SchemaError as exc:
        where = pointer("parameters", *exc.path)
        raise TemplateError(f"the parameter schema is not valid JSON Schema: {exc.message}", pointer=where,
                            code="parameters") from None


def placeholders_in(value: Any, path: list[Any]) -> list[tuple[str, str]]:
    """(pointer, parameter name) of every placeholder inside `value`, which sits at `path`."""
    found: list[tuple[str, str]] = []
    stack: list[tuple[Any, list[Any]]] = [(value, path)]
    while stack:
        v, p = stack.pop()
        if isinstance(v, dict):
            if PLACEHOLDER in v:
                name = v[PLACEHOLDER]
                if set(v) != {PLACEHOLDER} or not isinstance(name, str):
                    raise TemplateError('a placeholder is exactly {"$param": "<name>"}', pointer=pointer(*p),
                                        code="placeholder")
                found.append((pointer(*p), name))
                continue
            stack.extend((c, [*p, k]) for k, c in v.items())
        elif isinstance(v, list):
            stack.extend((c, [*p, j]) for j, c in enumerate(v))
    return found


def placeholders(graph: dict[str, Any]) -> list[tuple[str, str]]:
    """(pointer, parameter name) of every placeholder in the graph's node configs."""
    found: list[tuple[str, str]] = []
    for i, node in enumerate(graph.get("nodes") or []):
        if isinstance(node, dict):
            found += placeholders_in(node.get("config"), ["graph", "nodes", i, "config"])
    return found


def _check_literal(kind: str, value: str, where: str) -> None:
    try:
        check_cron(value) if kind == "cron" else check_timezone(value)
    except CronError as exc:
        raise TemplateError(str(exc), pointer=where, code="trigger") from None


def check_triggers(tpl: TemplateFile) -> None:
    """The gate's part for `triggers`: literal crons and time zones valid, placeholders naming
    declared parameters of type string."""
    props = tpl.parameters.get("properties", {})
    for i, trig in enumerate(tpl.triggers):
        base = ["triggers", i]
        if not isinstance(trig, ScheduleTrigger):
            continue
        for field in ("cron", "timezone"):
            value = getattr(trig, field)
            if isinstance(value, str):
                _check_literal(field, value, pointer(*base, field))
                continue
            for where, name in placeholders_in(value, [*base, field]):
                prop = props.get(name)
                if prop is None:
                    raise TemplateError(f"placeholder names parameter {name!r}, which the parameter schema "
                                        "does not declare", pointer=where, code="placeholder")
                if not isinstance(prop, dict) or prop.get("type") != "string":
                    raise TemplateError(f"the {field} of a schedule comes from parameter {name!r}, which must "
                                        "have type 'string'", pointer=where, code="trigger")
        for where, name in placeholders_in(trig.input, [*base, "input"]):
            if name not in props:
                raise TemplateError(f"placeholder names parameter {name!r}, which the parameter schema "
                                    "does not declare", pointer=where, code="placeholder")


def parse_template(raw: Any, registry: Any) -> TemplateFile:
    """The strict gate (see the module docstring). `raw` is parsed JSON in the current format."""
    if not isinstance(raw, dict):
        raise TemplateError("a template is a JSON object", code="schema")
    check_shape(raw)
    try:
        tpl = TemplateFile.model_validate(raw)
    except PydanticValidationError as exc:
        raise _pydantic_error(exc, [], raw) from None
    for i, tag in enumerate(tpl.tags):
        if not 1 <= len(tag) <= 40:
            raise TemplateError("tags are 1 to 40 characters", pointer=f"/tags/{i}", code="schema")
    graph = tpl.graph
    nodes, edges = graph.get("nodes") or [], graph.get("edges") or []
    if isinstance(nodes, list) and len(nodes) > MAX_TEMPLATE_NODES:
        raise TemplateError(f"{len(nodes)} nodes; a template has at most {MAX_TEMPLATE_NODES}",
                            pointer="/graph/nodes", code="limit")
    if isinstance(edges, list) and len(edges) > MAX_TEMPLATE_EDGES:
        raise TemplateError(f"{len(edges)} edges; a template has at most {MAX_TEMPLATE_EDGES}",
                            pointer="/graph/edges", code="limit")
    try:
        doc = GraphDocument.model_validate(graph)
    except PydanticValidationError as exc:
        raise _pydantic_error(exc, ["graph"]) from None
    if doc.schema_version != SCHEMA_VERSION:  # pragma: no cover - Literal already enforces it
        raise TemplateError("graph.schema_version is not current", pointer="/graph/schema_version")
    for key, items in (("nodes", doc.nodes), ("edges", doc.edges), ("notes", doc.notes)):
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item.id in seen:
                raise TemplateError(f"duplicate {key[:-1]} id {item.id!r}", pointer=f"/graph/{key}/{i}/id",
                                    code="duplicate_id")
            seen.add(item.id)
    unknown = [(i, n) for i, n in enumerate(doc.nodes) if registry.get(n.type, n.type_version) is None]
    if unknown:
        i, n = unknown[0]
        names = ", ".join(sorted({f"{u.type} v{u.type_version}" for _, u in unknown}))
        raise TemplateError(f"node types outside the catalogue: {names}", pointer=f"/graph/nodes/{i}/type",
                            code="unknown_type")
    node_ids = {n.id for n in doc.nodes}
    for i, enh in enumerate(tpl.ai_enhancements):
        if enh.node not in node_ids:
            raise TemplateError(f"AI enhancement names node {enh.node!r}, which is not in the graph",
                                pointer=f"/ai_enhancements/{i}/node", code="schema")
    check_parameter_schema(tpl.parameters)
    declared = set(tpl.parameters.get("properties", {}))
    for where, name in placeholders(graph):
        if name not in declared:
            raise TemplateError(f"placeholder names parameter {name!r}, which the parameter schema does not declare",
                                pointer=where, code="placeholder")
    check_triggers(tpl)
    check_graph_structure(graph, registry)
    return tpl


# Problems of a graph's shape that no parameter value can fix. Config problems are left out:
# a config may hold {"$param": name} placeholders that only an import fills in.
STRUCTURAL_PROBLEMS = frozenset({"duplicate_id", "dangling_edge", "trigger_input", "unknown_port", "port_type",
                                 "multiple_inputs", "cycle", "for_each_scope"})


def check_graph_structure(graph: dict[str, Any], registry: Any) -> None:
    """Refuse a graph with cycles, self-loops, dangling edges or bad ports, naming every problem at once."""
    problems = [p for p in validate_graph(graph, registry).errors if p.code in STRUCTURAL_PROBLEMS]
    if problems:
        first = problems[0]
        raise TemplateError(f"the graph has {len(problems)} problem(s); first: {first.message}",
                            pointer="/graph" + first.pointer, code="graph",
                            errors=[{**p.to_json(), "pointer": "/graph" + p.pointer} for p in problems])


# --- parameters ------------------------------------------------------------------------

def with_defaults(schema: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    out = dict(params)
    for name, prop in (schema.get("properties") or {}).items():
        if name not in out and isinstance(prop, dict) and "default" in prop:
            out[name] = prop["default"]
    return out


def validate_params(schema: dict[str, Any], params: Any) -> dict[str, Any]:
    """Defaults filled in, then checked against the schema; TemplateError naming the field."""
    if not isinstance(params, dict):
        raise TemplateError("params must be an object", pointer="/params", code="params")
    check_shape(params)
    values = with_defaults(schema, params)
    errors = sorted(user_schema_errors(values, schema, format_checker=FormatChecker()), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if errors:
        listed = []
        for e in errors:
            path = list(e.absolute_path)
            if e.validator == "required":
                missing = e.message.split("'")[1] if "'" in e.message else ""
                path = [missing] if missing else path
            field = ".".join(map(str, path)) or "params"
            listed.append({"field": field, "pointer": pointer("params", *path), "message": e.message})
        first = listed[0]
        raise TemplateError(f"parameter {first['field']}: {first['message']}", pointer=first["pointer"],
                            code="params", errors=listed)
    return values


def substitute_value(value: Any, params: dict[str, Any]) -> Any:
    """A copy of `value` with every {"$param": name} replaced by params[name]. Plain data
    substitution: values are not rendered, evaluated or looked up anywhere else."""
    import copy

    # Iterative over containers; placeholders are replaced in place of their container slot.
    root = [copy.deepcopy(value)]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        parent, key = stack.pop()
        v = parent[key]
        if isinstance(v, dict):
            if set(v) == {PLACEHOLDER} and isinstance(v[PLACEHOLDER], str):
                name = v[PLACEHOLDER]
                if name not in params:
                    raise TemplateError(f"no value for parameter {name!r}", pointer=f"/params/{name}",
                                        code="params")
                parent[key] = copy.deepcopy(params[name])
                continue
            stack.extend((v, k) for k in v)
        elif isinstance(v, list):
            stack.extend((v, i) for i in range(len(v)))
    return root[0]


def substitute(graph: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """A copy of the graph with every placeholder in node configs replaced (substitute_value)."""
    import copy

    out = copy.deepcopy(graph)
    for node in out.get("nodes") or []:
        if isinstance(node, dict) and "config" in node:
            node["config"] = substitute_value(node["config"], params)
    return out


def instantiate(tpl: TemplateFile, params: Any, name: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(graph, the validated parameters): what an import puts in the new draft."""
    values = validate_params(tpl.parameters, params)
    graph = substitute(tpl.graph, values)
    graph["name"] = name or tpl.title
    return graph, values
