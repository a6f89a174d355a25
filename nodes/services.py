"""The services nodes use, typed, and the in-memory set plain engine runs and tests get.

The app builds one NodeServices with every field (backend/runs/node_services.py); a field it
forgets is a TypeError at start-up, not a node quietly writing to memory. Nodes read them as
`ctx.services.mailer` and so on (nodes/sdk.py NodeContext.services).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Protocol

from nodes.ai.gateway import AIGateway
from nodes.approval.links import ApprovalLinks
from nodes.code.sandbox import CodeSandbox
from nodes.credentials import CredentialStore, NoCredentials
from nodes.email.mailer import Mailer
from nodes.errors import NodeConfigError, NodeError
from nodes.verify.address import DnsSettings
from nodes.verify.certificates import LedgerStore, MemoryLedger


class TemplateStore(Protocol):
    """Saved email templates of a tenant (email.compose's `template_id`)."""

    async def get(self, tenant_id: str, template_id: str) -> dict[str, str] | None: ...


class NoTemplates:
    """No saved templates: every `template_id` is unknown."""

    async def get(self, tenant_id: str, template_id: str) -> dict[str, str] | None:
        return None


@dataclass(frozen=True)
class SubworkflowCall:
    """What flow.subworkflow asks for: run `workflow_id` of the caller's workspace as a child of
    the calling run (`parent_run_id`, its node `parent_node_id`)."""

    tenant_id: str
    parent_run_id: str
    parent_node_id: str
    parent_workflow_id: str | None
    workflow_id: str
    source: str                    # "published" or "draft"
    input: dict[str, Any]
    wait: bool
    # set when the node executes again after suspending on its child: take that run's result
    child_run_id: str | None = None


# The waiting entry's reason of a flow.subworkflow whose child run suspended (backend/runs/control.py
# resumes the caller when that child has ended).
SUBWORKFLOW_WAIT = "subworkflow"


class SubworkflowWaiting(NodeError):
    """The child run suspended (an approval, a long delay): with `wait`, flow.subworkflow suspends
    its own run and, once the child has ended, executes again to take the child's result."""

    kind = "subworkflow"

    def __init__(self, child_run_id: str):
        self.message = (f"the sub-workflow run {child_run_id} is waiting (an approval or a long delay); "
                        "inside a for_each item the call cannot wait for that")
        super().__init__(self.message)
        self.child_run_id = child_run_id


class Subworkflows(Protocol):
    """Starts child runs (flows/subworkflows.py; the app's is backend/runs/subworkflows.py)."""

    async def call(self, call: SubworkflowCall) -> dict[str, Any]:
        """With `wait`: the child run's output, or a NodeError when it failed, was cancelled or
        was refused (cycle, depth, not found); cancelling the caller cancels the child. Without:
        {"run_id", "status": "queued"} at once."""
        ...


class NoSubworkflows:
    """Outside the app (a bare engine, `maily run`): flow.subworkflow cannot start runs."""

    async def call(self, call: SubworkflowCall) -> dict[str, Any]:
        raise NodeConfigError("flow.subworkflow needs the app's runs (it cannot call a workflow here)",
                              pointer="/workflow_id")


@dataclass(frozen=True)
class NodeServices:
    ai: AIGateway                  # tier-aware AI calls with the cost ledger (nodes/ai/gateway.py)
    mailer: Mailer                 # email.send: providers, outbox, idempotent sends
    email_templates: TemplateStore
    certifier: LedgerStore         # verify.certify: signed run certificates
    dns: DnsSettings               # verify.email_address: MX lookups
    credentials: CredentialStore   # the workspace's vault (nodes/credentials.py)
    code: CodeSandbox              # code.javascript: the worker processes and the operator's limits
    approval_links: ApprovalLinks  # approval.wait: signed links to decide by mail
    subworkflows: Subworkflows = field(default_factory=NoSubworkflows)   # flow.subworkflow's child runs

    @classmethod
    def in_memory(cls, **given: Any) -> "NodeServices":
        """Offline AI (the baseline for every tenant), the in-memory outbox and ledger, no saved
        templates, DNS and code limits from the environment, except what `given` names: for plain engine runs and tests."""
        unknown = set(given) - {f.name for f in fields(cls)}
        if unknown:
            raise TypeError(f"NodeServices has no {', '.join(sorted(unknown))}")
        made = {"ai": AIGateway, "mailer": Mailer, "email_templates": NoTemplates, "certifier": MemoryLedger,
                "dns": DnsSettings.from_env, "credentials": NoCredentials, "subworkflows": NoSubworkflows,
                "code": CodeSandbox, "approval_links": lambda: ApprovalLinks(["offline"], "http://127.0.0.1:8000")}
        return cls(**{name: given[name] if name in given else make() for name, make in made.items()})
