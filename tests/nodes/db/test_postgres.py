"""db.postgres against the machine's real PostgreSQL: rows, params, limits, read-only mode,
time limits, and how each kind of failure is classified (and retried or not) by the engine."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from nodes.db import postgres
from nodes.net import BlockedAddressError
from nodes.sdk import NodeConfigError, NodeTemporaryError
from tests.nodes.db.conftest import HOST, PASSWORD, PG_PORT, StartOnSleep, credential, free_port, retries_of, run_node


def pg(database: str, **over):
    return credential("postgres", **{"port": PG_PORT, "database": database, "username": "postgres",
                                     "password": "", **over})


async def run(db_ctx, database: str, cred=None, **config):
    ctx = db_ctx(cred or pg(database))
    return (await postgres.execute(ctx, postgres.Config(credential="c1", **config), {}))["output"]


async def test_a_select_gives_rows_as_json_values(db_ctx, pg_db):
    """Rows come out as dicts with numerics as text and jsonb as JSON, with row_count and truncated."""
    out = await run(db_ctx, pg_db, query="SELECT id, name, price, meta FROM items WHERE id = $1", params=[2])
    assert out == {"rows": [{"id": 2, "name": "item 2", "price": "2.50", "meta": {"n": 2}}],
                   "row_count": 1, "truncated": False}


async def test_max_rows_truncates_and_says_so(db_ctx, pg_db):
    """Five matching rows with max_rows 3 give the first three and truncated true."""
    out = await run(db_ctx, pg_db, query="SELECT id FROM items ORDER BY id", max_rows=3)
    assert [r["id"] for r in out["rows"]] == [1, 2, 3] and out["row_count"] == 3 and out["truncated"] is True


async def test_an_injection_string_in_params_stays_data(db_ctx, pg_db):
    """A param holding SQL is compared as text: it matches nothing and the table survives."""
    out = await run(db_ctx, pg_db, query="SELECT id FROM items WHERE name = $1",
                    params=["x'; DROP TABLE items; --"])
    assert out["rows"] == []
    assert (await run(db_ctx, pg_db, query="SELECT count(*) AS n FROM items"))["rows"] == [{"n": 5}]


async def test_read_only_refuses_an_insert_naming_the_field(db_ctx, pg_db):
    """With read_only on (the default) an INSERT fails at /read_only and the row is not written."""
    with pytest.raises(NodeConfigError) as err:
        await run(db_ctx, pg_db, query="INSERT INTO items VALUES (99, 'x', 1)")
    assert err.value.pointer == "/read_only"
    assert (await run(db_ctx, pg_db, query="SELECT count(*) AS n FROM items WHERE id = 99"))["rows"] == [{"n": 0}]


async def test_writing_with_read_only_off_reports_rows_affected(db_ctx, pg_db):
    """read_only false commits the write and the output has rows_affected (and RETURNING rows)."""
    out = await run(db_ctx, pg_db, query="INSERT INTO items VALUES ($1, $2, 7) RETURNING id", params=[50, "new"],
                    read_only=False)
    assert out["rows"] == [{"id": 50}] and out["rows_affected"] == 1
    out = await run(db_ctx, pg_db, query="DELETE FROM items WHERE id >= $1", params=[50], read_only=False)
    assert out == {"rows": [], "row_count": 0, "truncated": False, "rows_affected": 1}


async def test_a_slow_query_hits_the_server_side_statement_timeout(db_ctx, pg_db):
    """pg_sleep longer than timeout_s is stopped by the server and reported as a timeout."""
    with pytest.raises(NodeTemporaryError, match="timeout_s = 1 s") as err:
        await run(db_ctx, pg_db, query="SELECT pg_sleep(5)", timeout_s=1)
    assert err.value.kind == "timeout"


async def test_a_refused_login_names_the_credential_fields_and_hides_the_password(db_ctx, pg_db):
    """A login the server refuses (the machine trusts loopback, so: a role that does not exist) is a
    config error at /credential naming username and password, without the password."""
    ctx = db_ctx(pg(pg_db, username="no_such_role_" + pg_db, password=PASSWORD))
    with pytest.raises(NodeConfigError) as err:
        await postgres.execute(ctx, postgres.Config(credential="c1", query="SELECT 1"), {})
    assert err.value.pointer == "/credential" and "username and password" in err.value.message
    assert PASSWORD not in err.value.message


async def test_a_missing_database_names_the_database_field(db_ctx, pg_db):
    """A database that does not exist is a config error at /credential naming the field database."""
    with pytest.raises(NodeConfigError) as err:
        await run(db_ctx, pg_db, cred=pg(pg_db + "_gone"), query="SELECT 1")
    assert err.value.pointer == "/credential" and "database" in err.value.message


async def test_a_private_host_is_refused_without_the_allow_list(make_ctx, pg_db):
    """Without MAILY_HTTP_ALLOWED_HOSTS listing it, 127.0.0.1 is not reached at all."""
    from nodes.credentials import MemoryCredentials

    ctx = make_ctx(services={"credentials": MemoryCredentials({"c1": pg(pg_db)})})
    with pytest.raises(BlockedAddressError) as err:
        await postgres.execute(ctx, postgres.Config(credential="c1", query="SELECT 1"), {})
    assert err.value.pointer == "/credential"


async def test_a_backend_terminated_mid_query_is_a_temporary_error(db_ctx, pg_db):
    """pg_terminate_backend during a query makes the node fail with a retryable error."""
    admin = await asyncpg.connect(host=HOST, port=PG_PORT, user="postgres", database=pg_db)
    query = "SELECT pg_sleep(20) AS terminate_me"
    task = asyncio.create_task(run(db_ctx, pg_db, query=query))
    try:
        while not await admin.fetchval("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                       "WHERE query = $1", query):
            await asyncio.sleep(0.05)
        with pytest.raises(NodeTemporaryError):
            await task
    finally:
        await admin.close()


async def test_the_engine_retries_a_refused_connection_until_the_server_is_there(pg_db, forwarder_to):
    """The first attempt meets a closed port; the engine retries and the second attempt gets the rows."""
    fwd = forwarder_to(PG_PORT)
    clock = StartOnSleep(fwd)
    outcome, events = await run_node("db.postgres", {"query": "SELECT count(*) AS n FROM items"},
                                     pg(pg_db, port=fwd.port), clock=clock)
    assert outcome.status == "succeeded", outcome.error
    assert outcome.output["db"]["rows"] == [{"n": 5}]
    assert len(retries_of(events)) == 1 and len(clock.slept) == 1


async def test_the_engine_does_not_retry_a_missing_table(pg_db):
    """A query on a table that does not exist fails once, at /query, with no retry."""
    outcome, events = await run_node("db.postgres", {"query": "SELECT * FROM no_such_table", "retries": 2},
                                     pg(pg_db))
    assert outcome.status == "failed"
    assert outcome.error["pointer"] == "/query" and "no_such_table" in outcome.error["message"]
    assert retries_of(events) == []


async def test_a_params_count_mismatch_names_params(db_ctx, pg_db):
    """Two placeholders with one param is a config error at /params."""
    with pytest.raises(NodeConfigError) as err:
        await run(db_ctx, pg_db, query="SELECT $1::int + $2::int AS s", params=[1])
    assert err.value.pointer == "/params"


def test_the_free_port_helper_gives_a_closed_port():
    """Sanity of the retry tests: nothing listens on a port the helper hands out."""
    import socket

    with pytest.raises(ConnectionRefusedError), socket.create_connection((HOST, free_port()), timeout=1):
        pass


async def test_the_password_is_redacted_from_what_the_run_records(pg_db):
    """A row that happens to hold the credential's password reaches the run's output and events as [redacted]."""
    outcome, events = await run_node("db.postgres", {"query": "SELECT $1::text AS echoed", "params": [PASSWORD]},
                                     pg(pg_db, password=PASSWORD))   # the machine trusts loopback: any password logs in
    assert outcome.status == "succeeded", outcome.error
    assert outcome.output["db"]["rows"] == [{"echoed": "[redacted]"}]
    assert PASSWORD not in repr([e.data for e in events])
