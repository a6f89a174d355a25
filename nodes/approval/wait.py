"""approval.wait: the run waits, holding no process, until someone approves or rejects.

The node always suspends the run (NodeSuspended). A decision arrives through
`POST /api/runs/{id}/approve` or `/reject` (or the editor's approval form) from a member, or
through a signed single-use link mailed to each address in `notify` (nodes/approval/links.py,
the page at /api/approvals/{token}), with the form's data, validated against `form` (a JSON
Schema); the run then resumes and the node fires `approved` or `rejected` with
{decision, data, decided_by, decided_at}. With `decide_within_s`, nobody deciding in time
gives `default_decision` (decided_by {"timeout": true}) when the deadline passes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import Field, field_validator

from nodes.approval.mail import mail_links
from nodes.sdk import NodeConfig, NodeConfigError, NodeContext, NodeSpec, NodeSuspended, Port
from nodes.user_schema import SchemaError, check_user_schema, user_schema_errors

SPEC = NodeSpec(
    type="approval.wait",
    version=1,
    title="Wait for approval",
    category="approval",
    icon="user-check",
    description=("Pauses the run until a person approves or rejects it, filling in a form. "
                 "The run holds no process while it waits."),
    inputs=(Port("input", "any", "What is to be approved; shown to the approver"),),
    outputs=(Port("approved", "object", "{decision, data (the form), decided_by, decided_at} when approved"),
             Port("rejected", "object", "{decision, data (the form), decided_by, decided_at} when rejected")),
    waits=True,
    # the form is a JSON Schema, kept as written (its strings are not expressions)
    raw_config_fields=("form",),
)

EMPTY_FORM: dict[str, Any] = {"type": "object", "properties": {}}


class Config(NodeConfig):
    title: str = Field(default="Approval needed", max_length=200, description="What the approver is asked")
    instructions: str = Field(default="", max_length=5000, description="Shown above the form")
    form: dict[str, Any] = Field(default_factory=lambda: dict(EMPTY_FORM),
                                 description="The approver's form, as a JSON Schema of an object")
    approvers: Literal["editor", "owner"] = Field(default="editor",
                                                  description="Who may decide: editors (and owners), or owners only")
    notify: list[str] = Field(default_factory=list, max_length=50,
                              description="Email addresses mailed a signed single-use link to decide without logging in")
    sender: str = Field(default="", max_length=400, description="From of the link mails; default: the instance's own")
    decide_within_s: float | None = Field(default=None, gt=0, le=90 * 86_400,
                                          description="Seconds to decide; then default_decision applies (empty: no limit)")
    default_decision: Literal["approved", "rejected"] = Field(
        default="rejected", description="The decision when nobody decided within decide_within_s")

    @field_validator("form")
    @classmethod
    def _a_json_schema_of_an_object(cls, form: dict[str, Any]) -> dict[str, Any]:
        try:
            check_user_schema(form)
        except SchemaError as exc:
            raise ValueError(f"not a valid JSON Schema: {exc.message}") from None
        if form.get("type", "object") != "object":
            raise ValueError("the form must be a JSON Schema of type object")
        return form


def form_errors(form: dict[str, Any], data: Any) -> list[dict[str, str]]:
    """Every problem of the submitted data against the form, each naming its field."""
    problems = []
    for err in sorted(user_schema_errors(data, form), key=lambda e: list(e.path)):
        path = list(err.path)
        if err.validator == "required":   # the missing field is in the message, not the path
            missing = err.message.split("'")[1] if "'" in err.message else ""
            path = [*path, missing]
        problems.append({"field": "/".join(str(p) for p in path), "pointer": "/" + "/".join(str(p) for p in path),
                         "message": err.message})
    return problems


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    if ctx.suspend_after_s is None:
        raise NodeConfigError("approval.wait can only wait on the main path of a run, not inside logic.for_each",
                              pointer="")
    deadline = ctx.clock.now() + timedelta(seconds=config.decide_within_s) if config.decide_within_s else None
    notified = await mail_links(ctx, config, inputs.get("input"), deadline) if config.notify else []
    # past the deadline the run resumes with this recorded result (docs/engine.md, run control)
    result = {config.default_decision: {"decision": config.default_decision, "data": {}, "decided_by": {"timeout": True},
                                        "decided_at": deadline.isoformat()}} if deadline else None
    raise NodeSuspended(deadline, "approval", result=result, details={
        "title": config.title, "instructions": config.instructions, "form": config.form,
        "approvers": config.approvers, "notified": notified, "default_decision": config.default_decision,
        "deadline": deadline.isoformat() if deadline else None})
