"""email.compose: subject, HTML and text from templates, CSS inlined, a text part made if missing."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import Field

from nodes.email.template import PreviewRecipient, render_email
from nodes.sdk import NodeConfig, NodeConfigError, NodeContext, NodeSpec, Port

SPEC = NodeSpec(
    type="email.compose",
    version=1,
    title="Compose email",
    category="email",
    icon="mail",
    description="Renders an email from templates (or a saved tenant template). Templates see the run's data, "
                "`data` and `recipient`; `recipient.*` is filled per recipient by email.send.",
    inputs=(Port("input", "any", "Available to templates as `input`"),),
    outputs=(Port("output", "object", "{subject, html, text, template, data}"),),
    # The templates are rendered here, with autoescaping for HTML, not by the engine.
    raw_config_fields=("subject", "html", "text"),
)


class Config(NodeConfig):
    template_id: str = Field(default="", description="A saved email template; its fields are used where "
                             "subject/html/text are empty")
    subject: str = Field(default="", max_length=2000, description="Subject template")
    html: str = Field(default="", description="HTML template ({{ }} values are HTML-escaped); <style> is inlined")
    text: str = Field(default="", description="Text template; generated from the HTML when empty")
    data: dict[str, Any] = Field(default_factory=dict, description="Template variables (may use {{ expressions }})")


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    templates = {"subject": config.subject, "html": config.html, "text": config.text}
    if config.template_id:
        saved = await ctx.services.email_templates.get(ctx.tenant_id, config.template_id)
        if saved is None:
            raise NodeConfigError(f"email template {config.template_id!r} does not exist", pointer="/template_id")
        templates = {k: v or saved.get(k, "") for k, v in templates.items()}
    if not templates["subject"]:
        raise NodeConfigError("the email needs a subject", pointer="/subject")
    scope = {**ctx.scope, **config.data, "data": config.data, "recipient": PreviewRecipient(),
             "unsubscribe_url": "{{ unsubscribe_url }}"}
    rendered = await asyncio.to_thread(render_email, templates, scope)  # off the event loop
    return {"output": {**rendered, "template": templates, "data": config.data}}
