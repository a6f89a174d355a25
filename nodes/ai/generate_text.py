"""ai.generate_text: a prompt template (rendered by the engine's sandboxed expressions) to text."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from nodes.ai.common import DATA_RULE, data
from nodes.ai.gateway import InvalidOutput, Task, gateway_of
from nodes.ai.sanitize import clean_html, clean_text
from nodes.sdk import NodeConfig, NodeConfigError, NodeContext, NodeSpec, Port

SPEC = NodeSpec(
    type="ai.generate_text",
    version=1,
    title="Generate text",
    category="ai",
    icon="sparkles",
    description="Writes text from a prompt template; variables come from upstream outputs via {{ expressions }}. "
                "Without AI (free tier, budget spent, providers down) it outputs the fallback template.",
    inputs=(Port("input", "any", "Available to expressions as `input`"),),
    outputs=(Port("output", "object", "{result: text, ai: {decision, reason, provider, model, tokens, cost}}"),),
    side_effects=True,
    side_effect_kind="none",   # a provider call: costs budget, changes nothing a repeat would duplicate
    default_timeout_s=90.0,
)


class Config(NodeConfig):
    prompt: str = Field(min_length=1, max_length=50_000, description="The prompt; may use {{ expressions }}")
    instructions: str = Field(default="You write concise, friendly marketing copy.", max_length=5_000,
                              description="System instructions (tone, audience)")
    fallback: str = Field(default="", max_length=50_000,
                          description="The deterministic text used without AI; may use {{ expressions }}. "
                                      "Empty: the rendered prompt's data")
    max_words: int = Field(default=200, ge=1, le=4000)
    output_format: Literal["text", "html"] = Field(default="text", description="html keeps safe formatting tags only")


def _clean(text: str, config: Config) -> str:
    text = clean_html(text) if config.output_format == "html" else clean_text(text)
    words = text.split()
    return " ".join(words[:config.max_words]) if len(words) > config.max_words else text


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    if not config.prompt.strip():
        raise NodeConfigError("the prompt is empty", pointer="/prompt")

    def parse(text: str) -> str:
        cleaned = _clean(text, config)
        if not cleaned.strip():
            raise InvalidOutput("empty text")
        return cleaned

    task = Task(node_type=SPEC.type, system=f"{config.instructions}\n{DATA_RULE}\n"
                f"Answer in at most {config.max_words} words" + (", as simple HTML." if config.output_format == "html" else "."),
                prompt=data(config.prompt), parse=parse,
                baseline=lambda: _clean(config.fallback or config.prompt, config),
                max_tokens=min(4096, config.max_words * 2 + 32))
    return {"output": await gateway_of(ctx).run(ctx, task)}
