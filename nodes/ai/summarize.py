"""ai.summarize: a summary held to a length (sentences or words), whoever writes it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from nodes.ai import offline
from nodes.ai.common import DATA_RULE, AIConfig, data, input_text
from nodes.ai.gateway import InvalidOutput, Task, baseline_output, gateway_of
from nodes.ai.sanitize import clean_text
from nodes.sdk import NodeContext, NodeSpec, Port

SPEC = NodeSpec(
    type="ai.summarize",
    version=1,
    title="Summarize",
    category="ai",
    icon="compress",
    description="Summarizes text to a number of sentences or words. Without AI: extractive (the most "
                "representative sentences, in their original order).",
    inputs=(Port("input", "any", "The text (or an object with text/body/content)"),),
    outputs=(Port("output", "object", "{result: summary, ai: {...}}"),),
    side_effects=True,
    side_effect_kind="none",   # a provider call: costs budget, changes nothing a repeat would duplicate
    default_timeout_s=90.0,
)


class Config(AIConfig):
    unit: Literal["sentences", "words"] = Field(default="sentences", description="What the length counts")
    length: int = Field(default=3, ge=1, le=2000, description="At most this many sentences or words")


def _bound(summary: str, config: Config) -> str:
    if config.unit == "words":
        return offline.limit_words(summary, config.length)
    return " ".join(offline.sentences(summary)[:config.length])


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    text = input_text(config.text, inputs)

    def baseline() -> str:
        if config.unit == "words":
            return offline.summarize(text, max_sentences=None, max_words=config.length) if text else ""
        return offline.summarize(text, max_sentences=config.length)

    def parse(answer: str) -> str:
        summary = _bound(clean_text(answer), config)   # the length is enforced, not just requested
        if not summary.strip():
            raise InvalidOutput("empty summary")
        return summary

    if not text.strip():
        return {"output": baseline_output("", "empty_input")}
    task = Task(node_type=SPEC.type,
                system=f"You summarize text faithfully. {DATA_RULE}\n"
                       f"Write at most {config.length} {config.unit}. Answer with the summary only.",
                prompt=data(text), parse=parse, baseline=baseline,
                max_tokens=min(4096, (config.length * 40 if config.unit == "sentences" else config.length * 2) + 32))
    return {"output": await gateway_of(ctx).run(ctx, task)}
