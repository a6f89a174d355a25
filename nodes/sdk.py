"""The node SDK: what a node type is, what it receives, and how it fails.

A node type is one module exposing three names:

    class Config(BaseModel): ...            # its JSON Schema drives the editor's form
    SPEC = NodeSpec(type="data.set", version=1, ...)
    async def execute(ctx: NodeContext, config: Config, inputs: dict) -> dict: ...

`execute` returns a mapping of output port name to value. A port missing from the
mapping was *not taken*: edges leaving it carry nothing and the nodes that depend only
on it are recorded as skipped (this is how `logic.if` and `logic.switch` branch).

Optional module-level hook, used by join nodes such as `logic.merge`:

    def ready(config, arrived: int, pending: int) -> bool
        # called by the engine whenever an upstream edge resolves; True starts the node
        # although `pending` edges have not resolved yet ("wait for first").
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import ModuleType
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

# The errors live in nodes/errors.py so nodes/expressions.py can raise them without importing
# this module back; they are part of the SDK and re-exported here under their usual names.
from nodes.credentials import Redactor, ResolvedCredential, credential_field, resolve_credential
from nodes.errors import NodeConfigError, NodeError, NodeSuspended, NodeTemporaryError  # noqa: F401  (the SDK)
from nodes.expressions import render_value

if TYPE_CHECKING:
    from nodes.services import NodeServices

# The plugin API: what a node module (ours or a plugin's) may import from here. Pinned by
# tests/nodes/test_sdk.py; the services nodes use are typed in nodes/services.py.
__all__ = [
    "Category", "Clock", "NoSecrets", "Redactor", "ResolvedCredential", "credential_field", "resolve_credential", "NodeConfig", "NodeConfigError", "NodeContext", "NodeError", "NodeSpec",
    "NodeSuspended", "NodeTemporaryError", "NodeType", "ERROR_PORT", "ON_ERROR_VALUES", "OnError", "PORT_TYPES", "Port", "PortType", "SUSPEND_AFTER_S",
    "Secrets", "SystemClock", "new_correlation_id",
]

# The value types a port can carry; "any" connects to everything.
PortType = Literal["any", "object", "array", "string", "number", "boolean"]
PORT_TYPES: tuple[str, ...] = ("any", "object", "array", "string", "number", "boolean")

# What a node's failure does, once its retries are spent (docs/engine.md "Error handling"):
# stop the run, continue with {"error": {...}} as its output, or take its `error` port.
OnError = Literal["stop", "continue", "branch"]
ON_ERROR_VALUES: tuple[str, ...] = ("stop", "continue", "branch")
ERROR_PORT = "error"   # the output port every node has when on_error is "branch"

Category = Literal["trigger", "data", "logic", "flow", "util", "http", "webhook", "ai", "email", "verify", "approval", "code",
                   "chat", "db", "storage"]


@dataclass(frozen=True)
class Port:
    name: str
    type: PortType = "any"
    description: str = ""
    # An input port with multiple=True accepts several edges and receives a list of the
    # values that arrived (in edge order); otherwise it accepts one edge and its value.
    multiple: bool = False
    # An output port with each=True (logic.for_each's "item") runs the nodes reachable
    # from it once per item; see flows/compile.py.
    each: bool = False


@dataclass(frozen=True)
class NodeSpec:
    type: str                      # "category.name", e.g. "http.request"
    version: int                   # bumped on any breaking change to Config or ports
    title: str
    category: Category
    icon: str                      # a short icon name the editor maps to a glyph
    description: str
    inputs: tuple[Port, ...] = (Port("input"),)
    outputs: tuple[Port, ...] = (Port("output"),)
    trigger: bool = False          # starts a run; has no inputs
    # Nodes with side effects or long waits get a Prefect task of their own (durable
    # state and retries); cheap pure nodes are fused and run inline.
    side_effects: bool = False
    # What running the node twice does to the world, for recovery after a crash interrupted
    # it mid-execution: "none" (nothing outside the run: pure, or reads only), "keyed" (its
    # effects carry an idempotency key stable for the run, so a repeat is dropped), "unkeyed"
    # (a repeat may repeat the effect: the run waits for a person's decision). None derives it:
    # "unkeyed" for side_effects=True, else "none".
    side_effect_kind: Literal["none", "keyed", "unkeyed"] | None = None
    waits: bool = False
    default_retries: int = 0
    default_timeout_s: float = 30.0
    # Top-level config keys the engine passes to execute() unrendered, because the node
    # renders them itself per item (e.g. data.transform's filter condition); see ctx.render.
    raw_config_fields: tuple[str, ...] = ()

    @property
    def effects(self) -> str:
        return self.side_effect_kind or ("unkeyed" if self.side_effects else "none")

    @property
    def rerun_safe(self) -> bool:
        """Running it again after an interruption repeats no effect."""
        return self.effects in ("none", "keyed")


class NodeConfig(BaseModel):
    """Base of every node's Config: the run settings every node has, beside its own fields.

    None means "the node type's default" (NodeSpec.default_retries / default_timeout_s)."""

    model_config = ConfigDict(extra="forbid")

    retries: int | None = Field(default=None, ge=0, le=10, description="Retries after a temporary failure")
    retry_backoff_s: float = Field(default=1.0, ge=0, le=600, description="First retry delay; doubles each retry, with jitter")
    timeout_s: float | None = Field(default=None, gt=0, le=86_400, description="Time limit of one attempt")
    on_error: OnError = Field(default="stop", description="After the last retry: stop the run, continue with "
                                                          "{error} as the output, or branch to the error port")


# Waits longer than this suspend the run (MAILY_SUSPEND_AFTER_S); shorter ones just sleep.
SUSPEND_AFTER_S = 30.0


class Clock(Protocol):
    def now(self) -> datetime: ...
    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    async def sleep(self, seconds: float) -> None:
        import asyncio

        await asyncio.sleep(seconds)


class Secrets(Protocol):
    async def get(self, name: str) -> str: ...


class NoSecrets:
    async def get(self, name: str) -> str:
        raise NodeConfigError(f"secret {name!r} is not defined", pointer="")


@dataclass
class NodeContext:
    """What a node may touch. Everything outside the node arrives through here, so tests
    hand in real loopback servers instead of patching."""

    run_id: str
    node_id: str
    tenant_id: str = ""
    workflow_id: str | None = None
    attempt: int = 1
    http: Any = None               # nodes.net.SafeHttpClient (SSRF-guarded httpx)
    clock: Clock = field(default_factory=SystemClock)
    secrets: Secrets = field(default_factory=NoSecrets)
    # The secret values this run resolved (nodes/credentials.py); the engine scrubs them from
    # everything it records. One per run, shared by its nodes.
    redactor: Redactor = field(default_factory=Redactor)
    # Upstream outputs and run data, the scope of {{ expressions }}:
    # {"nodes": {id: {"output": ...}}, "trigger": ..., "run": {...}}
    scope: dict[str, Any] = field(default_factory=dict)
    # The app's services (nodes/services.py): ctx.services.mailer, .ai, ... The engine always
    # passes them; a context built without them fails clearly on first use.
    services: NodeServices = field(default_factory=lambda: _NO_SERVICES)  # type: ignore[assignment]
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("maily.node"))
    # Runs a sub-path of the graph for one item (set by the engine for logic.for_each).
    run_each: Callable[[Any, int], Awaitable[Any]] | None = None
    # Waits longer than this raise NodeSuspended instead of sleeping. None: this node cannot
    # suspend the run (inside a logic.for_each item, or called outside the engine).
    suspend_after_s: float | None = None
    # Set when the node executes again because what it suspended on has ended: its earlier
    # waiting entry ({reason, details, ...}); flow.subworkflow reads its child run id from it.
    resumed: dict[str, Any] | None = None

    def render(self, value: Any, extra: dict[str, Any] | None = None) -> Any:
        """Render {{ expressions }} in value (str, or dicts/lists of them) against the scope.

        A string that is one whole expression gives the native value (list, number...)."""
        scope = self.scope if not extra else {**self.scope, **extra}
        return render_value(value, scope)


class _NoServices:
    def __getattr__(self, name: str) -> Any:
        raise NodeError(f"this node needs the {name!r} service, but its context was built without services "
                        "(pass NodeServices to NodeContext, or run it through the engine)")


_NO_SERVICES = _NoServices()


@dataclass(frozen=True)
class NodeType:
    """A loaded node type: spec, config model, executor and optional join hook."""

    spec: NodeSpec
    config_model: type[BaseModel]
    execute: Callable[[NodeContext, Any, dict[str, Any]], Awaitable[dict[str, Any]]]
    ready: Callable[[Any, int, int], bool] | None = None
    source: str = "builtin"        # "builtin" or the plugin's distribution name

    @property
    def key(self) -> tuple[str, int]:
        return (self.spec.type, self.spec.version)

    @classmethod
    def from_module(cls, module: ModuleType, source: str = "builtin") -> "NodeType":
        missing = [n for n in ("SPEC", "Config", "execute") if not hasattr(module, n)]
        if missing:
            raise TypeError(f"node module {module.__name__} lacks {', '.join(missing)}")
        return cls(
            spec=module.SPEC,
            config_model=module.Config,
            execute=module.execute,
            ready=getattr(module, "ready", None),
            source=source,
        )

    def config_schema(self) -> dict[str, Any]:
        return self.config_model.model_json_schema()


def new_correlation_id() -> str:
    return uuid.uuid4().hex[:12]
