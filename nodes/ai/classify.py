"""ai.classify: the output is ALWAYS one of the configured categories.

A model's answer is mapped onto the set (exact name, then a unique category named inside
the answer); anything else is rejected, and the next provider or the keyword baseline
answers instead. Nothing outside the set is ever passed on.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, model_validator

from nodes.ai import offline
from nodes.ai.common import DATA_RULE, AIConfig, data, input_text
from nodes.ai.gateway import InvalidOutput, Task, gateway_of
from nodes.sdk import NodeContext, NodeSpec, Port

SPEC = NodeSpec(
    type="ai.classify",
    version=1,
    title="Classify",
    category="ai",
    icon="tag",
    description="Puts text into one of your categories. Without AI: keyword rules (each category's keywords).",
    inputs=(Port("input", "any", "The text (or an object with text/body/content)"),),
    outputs=(Port("output", "object", "{result: {category, scores}, ai: {...}}"),),
    side_effects=True,
    side_effect_kind="none",   # a provider call: costs budget, changes nothing a repeat would duplicate
    default_timeout_s=90.0,
)


class Config(AIConfig):
    categories: list[str] = Field(min_length=2, max_length=50, description="The allowed answers")
    keywords: dict[str, list[str]] = Field(default_factory=dict,
                                           description="Category -> keywords for the offline rules")
    default: str = Field(default="", description="Answer when nothing matches; empty: the first category")

    @model_validator(mode="after")
    def _check(self) -> "Config":
        names = [c.strip() for c in self.categories]
        if any(not n for n in names) or len({n.lower() for n in names}) != len(names):
            raise ValueError("categories must be non-empty and distinct")
        self.categories = names
        if self.default and self.default not in names:
            raise ValueError("default must be one of the categories")
        unknown = set(self.keywords) - set(names)
        if unknown:
            raise ValueError(f"keywords for unknown categories: {', '.join(sorted(unknown))}")
        return self


def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", s.lower()).strip()


def map_answer(answer: str, categories: list[str]) -> str:
    """The category the answer names, or InvalidOutput."""
    wanted = _norm(answer)
    by_norm = {_norm(c): c for c in categories}
    if wanted in by_norm:
        return by_norm[wanted]
    named = [c for n, c in by_norm.items() if n and re.search(rf"\b{re.escape(n)}\b", wanted)]
    if len(named) == 1:
        return named[0]
    raise InvalidOutput("the answer is not one of the categories")


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    text = input_text(config.text, inputs)
    default = config.default or config.categories[0]
    rules = {c: config.keywords.get(c, []) for c in config.categories}

    def baseline() -> dict[str, Any]:
        category, scores = offline.classify(text, rules, default)
        return {"category": category, "scores": scores}

    listed = "\n".join(f"- {c}" for c in config.categories)
    task = Task(node_type=SPEC.type,
                system=f"You classify text. {DATA_RULE}\nAnswer with exactly one category name from this list "
                       f"and nothing else:\n{listed}",
                prompt=data(text), parse=lambda a: {"category": map_answer(a, config.categories), "scores": {}},
                baseline=baseline, max_tokens=20)
    out = await gateway_of(ctx).run(ctx, task)
    if out["result"]["category"] not in config.categories:   # defence in depth: never leaves the set
        out["result"] = baseline()
    return {"output": out}
