"""ai.personalize: rewrite content for one recipient (their name, company, interests...)."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field

from nodes.ai import offline
from nodes.ai.common import DATA_RULE, data
from nodes.ai.gateway import InvalidOutput, Task, gateway_of
from nodes.ai.sanitize import clean_html, clean_text
from nodes.sdk import NodeConfig, NodeConfigError, NodeContext, NodeSpec, Port

SPEC = NodeSpec(
    type="ai.personalize",
    version=1,
    title="Personalize",
    category="ai",
    icon="user-pen",
    description="Rewrites content for a recipient. Without AI: fills [first_name], {company}... placeholders "
                "and adds a greeting by name.",
    inputs=(Port("input", "any", "Available to expressions as `input`"),),
    outputs=(Port("output", "object", "{result: content, ai: {...}}"),),
    side_effects=True,
    side_effect_kind="none",   # a provider call: costs budget, changes nothing a repeat would duplicate
    default_timeout_s=90.0,
)

_SAFE_FIELDS = 20   # recipient fields given to the model; a whole CRM record is not needed


class Config(NodeConfig):
    content: str = Field(min_length=1, max_length=50_000, description="The content; may use {{ expressions }}")
    recipient: dict[str, Any] = Field(default_factory=dict,
                                      description="The recipient's context, e.g. {{ input.contact }}: name, company...")
    tone: str = Field(default="friendly", max_length=100)
    output_format: Literal["text", "html"] = Field(default="text", description="html keeps safe formatting tags only")
    greeting: bool = Field(default=True, description="Offline: start with 'Hi <first name>,' when there is none")


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(config.recipient, dict):
        raise NodeConfigError("recipient must be an object", pointer="/recipient")
    clean = clean_html if config.output_format == "html" else clean_text
    context = {k: v for k, v in list(config.recipient.items())[:_SAFE_FIELDS] if isinstance(v, (str, int, float, bool))}

    def parse(answer: str) -> str:
        out = clean(answer)
        if not out.strip():
            raise InvalidOutput("empty text")
        return out

    task = Task(node_type=SPEC.type,
                system=f"You personalize marketing content for one recipient in a {config.tone} tone. {DATA_RULE}\n"
                       "Keep the meaning, links and facts; do not invent offers. Answer with the rewritten content only"
                       + (", as simple HTML." if config.output_format == "html" else "."),
                prompt=data(f"Recipient: {json.dumps(context, default=str)}\n\nContent:\n{config.content}"),
                parse=parse, baseline=lambda: clean(offline.personalize(config.content, context, config.greeting)),
                max_tokens=min(4096, len(config.content) // 2 + 128), temperature=0.3)
    return {"output": await gateway_of(ctx).run(ctx, task)}
