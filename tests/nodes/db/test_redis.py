"""db.redis against the machine's real Redis: get, set with a TTL, incr, publish, an ACL login,
and how failures are classified (and retried or not) by the engine."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from nodes.db import redis as node
from nodes.sdk import NodeConfigError, NodeTemporaryError
from tests.nodes.db.conftest import PASSWORD, REDIS_PORT, StartOnSleep, credential, retries_of, run_node


def rd(**over):
    return credential("redis", **{"port": REDIS_PORT, "username": "", "password": "", "database": 0, "tls": False,
                                  **over})


def key() -> str:
    return "maily_dbnodes:" + secrets.token_hex(6)


async def run(db_ctx, cred=None, **config):
    return (await node.execute(db_ctx(cred or rd()), node.Config(credential="c1", **config), {}))["output"]


async def test_set_with_a_ttl_then_get_reads_it_back(db_ctx, redis_admin):
    """set stores JSON text for a non-text value with the TTL; get reads the same text."""
    k = key()
    assert await run(db_ctx, operation="set", key=k, value={"a": 1}, ttl_s=60) == {"key": k, "ok": True}
    assert 0 < await redis_admin.ttl(k) <= 60
    assert await run(db_ctx, operation="get", key=k) == {"key": k, "value": '{"a": 1}', "found": True}
    await redis_admin.delete(k)


async def test_get_of_a_missing_key_is_not_found(db_ctx):
    """A key that does not exist gives value null and found false."""
    k = key()
    assert await run(db_ctx, operation="get", key=k) == {"key": k, "value": None, "found": False}


async def test_incr_adds_by_and_returns_the_new_value(db_ctx, redis_admin):
    """incr by 5 twice gives 5 then 10."""
    k = key()
    assert (await run(db_ctx, operation="incr", key=k, by=5))["value"] == 5
    assert (await run(db_ctx, operation="incr", key=k, by=5))["value"] == 10
    await redis_admin.delete(k)


async def test_publish_reaches_a_subscriber(db_ctx, redis_admin):
    """A message published on a channel arrives at a subscriber, and receivers counts it."""
    channel = key()
    pubsub = redis_admin.pubsub()
    await pubsub.subscribe(channel)
    await pubsub.get_message(timeout=5)   # the subscribe confirmation
    out = await run(db_ctx, operation="publish", channel=channel, value="hello")
    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
    await pubsub.aclose()
    assert out == {"channel": channel, "receivers": 1}
    assert message["data"] == b"hello"


async def test_incr_of_a_text_value_is_a_config_error_not_retried(db_ctx, redis_admin):
    """Incrementing a key holding text fails at /key (Redis answers it is not an integer)."""
    k = key()
    await redis_admin.set(k, "text")
    with pytest.raises(NodeConfigError) as err:
        await run(db_ctx, operation="incr", key=k)
    await redis_admin.delete(k)
    assert err.value.pointer == "/key" and "integer" in err.value.message


async def test_a_missing_key_names_the_field(db_ctx):
    """get without a key, and publish without a channel, fail at the field they need."""
    for operation, field in (("get", "/key"), ("publish", "/channel")):
        with pytest.raises(NodeConfigError) as err:
            await run(db_ctx, operation=operation)
        assert err.value.pointer == field


async def test_an_acl_user_logs_in_with_its_password(db_ctx, redis_user, redis_admin):
    """A credential with the ACL user's name and password works (the refusal test is not a fluke)."""
    k = key()
    await run(db_ctx, rd(username=redis_user, password=PASSWORD), operation="set", key=k, value="v")
    assert await redis_admin.get(k) == b"v"
    await redis_admin.delete(k)


async def test_a_wrong_password_names_the_credential_fields_and_hides_the_password(db_ctx, redis_user):
    """A refused login is a config error at /credential naming username and password, without the password."""
    with pytest.raises(NodeConfigError) as err:
        await run(db_ctx, rd(username=redis_user, password=PASSWORD + "-wrong"), operation="get", key=key())
    assert err.value.pointer == "/credential" and "username and password" in err.value.message
    assert PASSWORD not in err.value.message


async def test_a_server_that_never_answers_is_a_timeout(db_ctx):
    """A port that accepts but never speaks makes the node fail with a timeout after timeout_s."""
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(NodeTemporaryError) as err:
            await run(db_ctx, rd(port=port), operation="get", key=key(), timeout_s=0.5)
    finally:
        server.close()
    assert err.value.kind == "timeout"


async def test_the_engine_retries_a_refused_connection_until_the_server_is_there(redis_admin, forwarder_to):
    """The first attempt meets a closed port; the engine retries and the second attempt increments."""
    k = key()
    fwd = forwarder_to(REDIS_PORT)
    clock = StartOnSleep(fwd)
    outcome, events = await run_node("db.redis", {"operation": "incr", "key": k, "by": 3}, rd(port=fwd.port),
                                     clock=clock)
    await redis_admin.delete(k)
    assert outcome.status == "succeeded", outcome.error
    assert outcome.output["db"] == {"key": k, "value": 3}
    assert len(retries_of(events)) == 1 and len(clock.slept) == 1


async def test_the_engine_does_not_retry_a_refused_login(redis_user):
    """A wrong password fails once, at /credential, with no retry, and the run records no password."""
    outcome, events = await run_node("db.redis", {"operation": "get", "key": key(), "retries": 2},
                                     rd(username=redis_user, password=PASSWORD + "-wrong"))
    assert outcome.status == "failed" and outcome.error["pointer"] == "/credential"
    assert retries_of(events) == []
    assert PASSWORD not in repr([e.data for e in events])
