"""ai.extract_entities: the chosen entity types as JSON that is validated against a schema.

A model's JSON must match the schema, and every value must occur in the source text (a
model cannot invent an address); otherwise the next provider or the pattern baseline answers.
"""

from __future__ import annotations

from typing import Any, Literal

import jsonschema
from pydantic import Field

from nodes.ai import offline
from nodes.ai.common import DATA_RULE, AIConfig, data, input_text, parse_json_object
from nodes.ai.gateway import InvalidOutput, Task, gateway_of
from nodes.sdk import NodeContext, NodeSpec, Port

EntityType = Literal["email", "url", "phone", "date", "money", "name"]

SPEC = NodeSpec(
    type="ai.extract_entities",
    version=1,
    title="Extract entities",
    category="ai",
    icon="scan",
    description="Finds emails, URLs, phone numbers, dates, amounts of money and names in text, as JSON "
                "{type: [values]}. Without AI: patterns and name heuristics.",
    inputs=(Port("input", "any", "The text (or an object with text/body/content)"),),
    outputs=(Port("output", "object", "{result: {type: [values]}, ai: {...}}"),),
    side_effects=True,
    side_effect_kind="none",   # a provider call: costs budget, changes nothing a repeat would duplicate
    default_timeout_s=90.0,
)


class Config(AIConfig):
    types: list[EntityType] = Field(default_factory=lambda: ["email", "url", "phone", "date", "money", "name"],
                                    min_length=1, description="Entity types to extract")
    max_per_type: int = Field(default=20, ge=1, le=200)


def schema(types: list[str], max_items: int) -> dict[str, Any]:
    """The output's JSON Schema: exactly the chosen types, each a list of short strings."""
    item = {"type": "string", "minLength": 1, "maxLength": 500}
    return {"type": "object", "additionalProperties": False, "required": list(types),
            "properties": {t: {"type": "array", "items": item, "maxItems": max_items} for t in types}}


def validate(value: dict[str, Any], text: str, config: Config) -> dict[str, list[str]]:
    value = {t: value.get(t, []) for t in config.types}      # missing types: none found
    value = {t: (v[:config.max_per_type] if isinstance(v, list) else v) for t, v in value.items()}
    try:
        jsonschema.validate(value, schema(list(config.types), config.max_per_type))
    except jsonschema.ValidationError as exc:
        raise InvalidOutput(f"schema: {exc.message[:120]}") from None
    lowered = text.lower()
    return {t: list(dict.fromkeys(v.strip() for v in vs if v.strip().lower() in lowered)) for t, vs in value.items()}


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    text = input_text(config.text, inputs)
    types = list(dict.fromkeys(config.types))
    config.types = types  # type: ignore[assignment]
    example = "{" + ", ".join(f'"{t}": ["..."]' for t in types) + "}"
    task = Task(node_type=SPEC.type,
                system=f"You extract entities. {DATA_RULE}\nAnswer with one JSON object of this shape and "
                       f"nothing else: {example}. Use [] when there are none; copy values exactly as written.",
                prompt=data(text), json_mode=True, max_tokens=800,
                parse=lambda a: validate(parse_json_object(a), text, config),
                baseline=lambda: offline.extract(text, types, config.max_per_type))
    return {"output": await gateway_of(ctx).run(ctx, task)}
