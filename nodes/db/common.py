"""What the database nodes share: the checked target address, the time budget, the SQL config
fields, JSON-safe row values and the errors every driver's failures become.

One connection per execution, closed before the node returns: a node runs in whichever process
(app or worker) picks up the run, credentials change between runs, and the node SDK has no hook
to close a pool when a process stops, so a pool would either leak connections or hold stale
logins. Connecting costs a few milliseconds on a network a workflow talks to.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import time
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from nodes.net import allowed_hosts_from_env, checked_address
from nodes.sdk import (NodeConfig, NodeConfigError, NodeContext, NodeSpec, NodeTemporaryError, Port,
                       ResolvedCredential, resolve_credential)

MAX_ROWS = 1000


def sql_spec(type_: str, title: str, description: str) -> NodeSpec:
    """The spec of a SQL node: one input, the rows as output, a write may not be repeated."""
    return NodeSpec(
        type=type_, version=1, title=title, category="db", icon="database", description=description,
        inputs=(Port("input", "any", "Available to expressions as `input`"),),
        outputs=(Port("output", "object", "{rows, row_count, truncated} (+ rows_affected when writing)"),),
        side_effects=True,
        side_effect_kind="unkeyed",   # a write repeated after a crash would write twice
        default_retries=2,
    )


class SqlConfig(NodeConfig):
    """The fields db.postgres and db.mysql share (each adds its own `credential`)."""

    query: str = Field(min_length=1, max_length=100_000, description="One SQL statement; values go in `params`, "
                       "never into the text")
    params: list[Any] = Field(default_factory=list, max_length=1000,
                              description="Values bound to the query's placeholders, in order (expressions allowed)")
    max_rows: int = Field(default=MAX_ROWS, ge=1, le=100_000, description="Rows kept in the output; "
                          "more sets `truncated`")
    read_only: bool = Field(default=True, description="Run in a READ ONLY transaction; turn off to write "
                            "(the output then has `rows_affected`)")


@dataclass
class Deadline:
    """The node's time limit (`timeout_s`, the engine's limit of one attempt) as a budget: the
    server-side statement timeout gets what is left minus a margin, so the server stops the
    query, and says so, before the engine abandons the attempt."""

    limit_s: float
    started: float

    @classmethod
    def of(cls, config: NodeConfig, spec: NodeSpec) -> "Deadline":
        return cls(config.timeout_s or spec.default_timeout_s, time.monotonic())

    @property
    def margin_s(self) -> float:
        return min(1.0, self.limit_s * 0.1)

    def remaining(self, margin: float = 1.0) -> float:
        """Seconds left, less `margin` times the margin (at least a millisecond)."""
        return max(0.001, self.limit_s - (time.monotonic() - self.started) - self.margin_s * margin)

    def statement_ms(self) -> int:
        return max(1, int(self.remaining() * 1000))

    def expired(self, what: str = "the query") -> NodeTemporaryError:
        exc = NodeTemporaryError(f"{what} ran longer than the node's time limit (timeout_s = {self.limit_s:g} s) "
                                 "and was stopped; raise timeout_s or make it faster")
        exc.kind = "timeout"  # type: ignore[attr-defined]  # as the engine marks its own attempt timeouts
        return exc


def allowed_hosts(ctx: NodeContext) -> frozenset[str]:
    """The operator's allow-list (MAILY_HTTP_ALLOWED_HOSTS), as the run's HTTP client carries it."""
    hosts = getattr(ctx.http, "allowed_hosts", None)
    return frozenset(hosts) if hosts is not None else allowed_hosts_from_env()


async def target(ctx: NodeContext, cred: ResolvedCredential, kind: str) -> str:
    """The checked address of the credential's host: resolved once, private ones refused."""
    host = str(cred.fields.get("host") or "")
    try:
        return await checked_address(host, int(cred.fields["port"]), allowed_hosts(ctx))
    except NodeConfigError as exc:
        raise type(exc)(f"{kind} host of the credential (field host): {exc.message}",
                        pointer="/credential") from None


def need_credential(credential_id: str | None) -> str:
    if not credential_id:
        raise NodeConfigError("choose a credential: this node connects with one from the vault", pointer="/credential")
    return credential_id


async def prepare(ctx: NodeContext, config: NodeConfig, spec: NodeSpec, kind: str
                  ) -> tuple[Deadline, ResolvedCredential, str]:
    """What every database node starts with: its time budget (from now), its credential (of the
    type named like the node, db.redis -> redis; secrets registered with the run's redactor)
    and the checked address of the credential's host."""
    deadline = Deadline.of(config, spec)
    cred = await resolve_credential(ctx, need_credential(getattr(config, "credential", None)),
                                    (spec.type.split(".", 1)[1],))
    return deadline, cred, await target(ctx, cred, kind)


def login_refused(kind: str, cred: ResolvedCredential, detail: str) -> NodeConfigError:
    user = cred.fields.get("username") or "default"
    return NodeConfigError(f"{kind} refused the login of user {user!r}: check the credential's fields "
                           f"username and password ({detail})", pointer="/credential")


def no_database(kind: str, detail: str) -> NodeConfigError:
    return NodeConfigError(f"{kind}: {detail} (check the credential's field database)", pointer="/credential")


def temporary(kind: str, detail: str) -> NodeTemporaryError:
    return NodeTemporaryError(f"{kind}: {detail} (temporary; retried)")


def query_failed(kind: str, detail: str, pointer: str = "/query") -> NodeConfigError:
    field = pointer.strip("/")
    return NodeConfigError(f"{kind} refused the {field}: {detail}", pointer=pointer)


def read_only_refused(kind: str, detail: str) -> NodeConfigError:
    return NodeConfigError(f"{kind}: the query writes, but read_only is on ({detail}); turn read_only off "
                           "to let this node write", pointer="/read_only")


def jsonable(value: Any) -> Any:
    """A column value as JSON: decimals as text (no precision lost), times in ISO 8601,
    intervals in seconds, bytes in base64, UUIDs as text; lists and dicts value by value."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    return str(value)


def rows_output(rows: list[dict[str, Any]], max_rows: int, rows_affected: int | None,
                read_only: bool) -> dict[str, Any]:
    """{rows, row_count, truncated} (+ rows_affected when the node may write)."""
    kept = [{k: jsonable(v) for k, v in row.items()} for row in rows[:max_rows]]
    out: dict[str, Any] = {"rows": kept, "row_count": len(kept), "truncated": len(rows) > max_rows}
    if not read_only:
        out["rows_affected"] = rows_affected
    return {"output": out}
