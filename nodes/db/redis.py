"""db.redis: get, set (with a TTL), incr or publish on Redis (redis.asyncio)."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Literal

import redis.asyncio as aioredis
from pydantic import Field
from redis import exceptions as rex
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from nodes.db.common import login_refused, prepare, query_failed, temporary
from nodes.sdk import NodeConfig, NodeConfigError, NodeContext, NodeError, NodeSpec, Port, credential_field

SPEC = NodeSpec(
    type="db.redis", version=1, title="Redis", category="db", icon="database",
    description="Redis commands: get a key, set it (with a TTL), increment it by n, or publish a message "
                "on a channel. Outputs {key, value} ({channel, receivers} for publish).",
    inputs=(Port("input", "any", "Available to expressions as `input`"),),
    outputs=(Port("output", "object", "get: {key, value, found}; set: {key, ok}; incr: {key, value}; "
                                      "publish: {channel, receivers}"),),
    side_effects=True,
    side_effect_kind="unkeyed",   # an incr or publish repeated after a crash happens twice
    default_retries=2,
)
KIND = "Redis"
_FIELD = {"get": "key", "set": "key", "incr": "key", "publish": "channel"}


class Config(NodeConfig):
    credential: str | None = credential_field("redis", description="A Redis credential from the vault")
    operation: Literal["get", "set", "incr", "publish"] = Field(default="get", description="The command")
    key: str = Field(default="", max_length=4096, description="The key (get, set, incr)")
    value: Any = Field(default=None, description="set: the value stored; publish: the message. Text is sent "
                                                 "as is, anything else as JSON")
    ttl_s: int | None = Field(default=None, ge=1, le=10 * 365 * 86400, description="set: expire the key after "
                                                                                   "this many seconds")
    by: int = Field(default=1, description="incr: the amount added (negative subtracts)")
    channel: str = Field(default="", max_length=4096, description="publish: the channel")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


async def _command(client: aioredis.Redis, config: Config) -> dict[str, Any]:
    if config.operation == "get":
        raw = await client.get(config.key)
        return {"key": config.key, "value": None if raw is None else raw.decode("utf-8", "replace"),
                "found": raw is not None}
    if config.operation == "set":
        if config.value is None:
            raise NodeConfigError("set needs a value", pointer="/value")
        await client.set(config.key, _text(config.value), ex=config.ttl_s)
        return {"key": config.key, "ok": True}
    if config.operation == "incr":
        return {"key": config.key, "value": await client.incrby(config.key, config.by)}
    receivers = await client.publish(config.channel, _text(config.value if config.value is not None else ""))
    return {"channel": config.channel, "receivers": receivers}


def _classify(exc: BaseException, config: Config, cred: Any) -> BaseException:
    if isinstance(exc, NodeError):
        return exc
    text = str(exc)
    if isinstance(exc, rex.AuthenticationError) or "WRONGPASS" in text or "NOAUTH" in text or \
            "without any password configured" in text:
        return login_refused(KIND, cred, text)
    if isinstance(exc, (rex.ConnectionError, rex.BusyLoadingError, rex.ReadOnlyError, rex.TryAgainError,
                        rex.MasterDownError, rex.ClusterDownError, rex.OutOfMemoryError, OSError)):
        return temporary(KIND, f"{type(exc).__name__}: {text}")
    if isinstance(exc, rex.NoPermissionError):
        return NodeConfigError(f"{KIND}: the credential's user may not run {config.operation}: {text}",
                               pointer="/credential")
    if isinstance(exc, rex.ResponseError):   # WRONGTYPE, not an integer...
        return query_failed(KIND, f"{config.operation} {text}", "/" + _FIELD[config.operation])
    return exc


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    field = _FIELD[config.operation]
    if not getattr(config, field):
        raise NodeConfigError(f"{config.operation} needs a {field}", pointer=f"/{field}")
    deadline, cred, address = await prepare(ctx, config, SPEC, KIND)
    f = cred.fields
    # TLS encrypts; the certificate's name is not checked since we dial the checked IP (as sslmode=require).
    # No client-side retries: the engine retries the node.
    client = aioredis.Redis(host=address, port=int(f["port"]), db=int(f.get("database") or 0),
                            username=f.get("username") or None, password=f.get("password") or None,
                            ssl=bool(f.get("tls")), ssl_cert_reqs="none", ssl_check_hostname=False,
                            socket_connect_timeout=deadline.remaining(), socket_timeout=deadline.remaining(),
                            retry=Retry(NoBackoff(), 0), single_connection_client=True,
                            client_name="maily-flow")
    try:
        async with asyncio.timeout(deadline.remaining(0.5)):
            return {"output": await _command(client, config)}
    except (TimeoutError, rex.TimeoutError):
        raise deadline.expired(f"Redis {config.operation}") from None
    except Exception as exc:
        raise _classify(exc, config, cred) from None
    finally:
        await client.aclose()
