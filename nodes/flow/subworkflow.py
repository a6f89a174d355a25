"""flow.subworkflow: runs another workflow of the workspace as a child run and, with `wait`,
gives its output.

The child run links to its parent (run records and API); its failure is this node's failure
(kind `subworkflow`, so `on_error` applies); cancelling the parent cancels the child. Calls nest
at most MAILY_SUBWORKFLOW_MAX_DEPTH deep and a cycle of calls is refused, naming the chain
(flows/subworkflows.py). Another workspace's workflow is not found. A child that suspends (an
approval, a long delay) suspends this run too; it resumes when the child has ended."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from nodes.sdk import NodeConfig, NodeContext, NodeSpec, NodeSuspended, Port
from nodes.services import SUBWORKFLOW_WAIT, SubworkflowCall, SubworkflowWaiting

SPEC = NodeSpec(
    type="flow.subworkflow",
    version=1,
    title="Run workflow",
    category="flow",
    icon="workflow",
    description="Runs another workflow of this workspace with an input and, when waiting, outputs what its "
                "run produced. Its failure is this node's failure.",
    inputs=(Port("input", "any", "Passed as the child's input when `input` is left empty"),),
    outputs=(Port("output", "any", "The child run's output (with wait), or {run_id, status}"),),
    # it starts a run (a durable Prefect task); running it again after a crash would start a second child
    side_effects=True,
    default_timeout_s=3600.0,
)


class Config(NodeConfig):
    # x-workflow: the editor shows a picker of the workspace's workflows (docs/editor.md, "Config forms")
    workflow_id: str = Field(min_length=1, max_length=64, description="The workflow to run (of this workspace)",
                             json_schema_extra={"x-workflow": True})
    source: Literal["published", "draft"] = Field(default="published",
                                                  description="Run its published version (default) or its draft")
    input: dict[str, Any] = Field(default_factory=dict,
                                  description="The child run's input (expressions); empty: this node's input")
    wait: bool = Field(default=True, description="Wait for the child run and output what it produced")


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    given = config.input
    if not given:
        upstream = inputs.get("input")
        given = upstream if isinstance(upstream, dict) else ({} if upstream is None else {"input": upstream})
    resumed = ctx.resumed if ctx.resumed and ctx.resumed.get("reason") == SUBWORKFLOW_WAIT else {}
    call = SubworkflowCall(tenant_id=ctx.tenant_id, parent_run_id=ctx.run_id, parent_node_id=ctx.node_id,
                           parent_workflow_id=ctx.workflow_id, workflow_id=config.workflow_id, source=config.source,
                           input=given, wait=config.wait,
                           child_run_id=(resumed.get("details") or {}).get("child_run_id"))
    try:
        return {"output": await ctx.services.subworkflows.call(call)}
    except SubworkflowWaiting as waiting:
        if ctx.suspend_after_s is None:   # inside a for_each item: a run cannot suspend there
            raise
        # the child waits for an approval or a long delay: so does this run, holding nothing;
        # once the child has ended the app resumes this node, which then takes its result
        raise NodeSuspended(None, SUBWORKFLOW_WAIT, details={"child_run_id": waiting.child_run_id,
                                                             "workflow_id": config.workflow_id}) from None
