"""db.mysql against the machine's real MariaDB: rows, params, limits, read-only mode, time limits,
and how each kind of failure is classified (and retried or not) by the engine."""

from __future__ import annotations

import asyncio

import aiomysql
import pytest

from nodes.db import mysql
from nodes.sdk import NodeConfigError, NodeTemporaryError
from tests.nodes.db.conftest import HOST, MY_PORT, PASSWORD, StartOnSleep, credential, retries_of, run_node


def my(database: str, **over):
    return credential("mysql", **{"port": MY_PORT, "database": database, "username": "root", "password": "",
                                  **over})


async def run(db_ctx, database: str, cred=None, **config):
    ctx = db_ctx(cred or my(database))
    return (await mysql.execute(ctx, mysql.Config(credential="c1", **config), {}))["output"]


async def test_a_select_gives_rows_as_json_values(db_ctx, my_db):
    """Rows come out as dicts with decimals as text, row_count and truncated."""
    out = await run(db_ctx, my_db, query="SELECT id, name, price FROM items WHERE id = %s", params=[2])
    assert out == {"rows": [{"id": 2, "name": "item 2", "price": "2.50"}], "row_count": 1, "truncated": False}


async def test_max_rows_truncates_and_says_so(db_ctx, my_db):
    """Five matching rows with max_rows 2 give the first two and truncated true."""
    out = await run(db_ctx, my_db, query="SELECT id FROM items ORDER BY id", max_rows=2)
    assert out == {"rows": [{"id": 1}, {"id": 2}], "row_count": 2, "truncated": True}


async def test_an_injection_string_in_params_stays_data(db_ctx, my_db):
    """A param holding SQL is compared as text: it matches nothing and the table survives."""
    out = await run(db_ctx, my_db, query="SELECT id FROM items WHERE name = %s",
                    params=["x' OR '1'='1'; DROP TABLE items; -- "])
    assert out["rows"] == []
    assert (await run(db_ctx, my_db, query="SELECT count(*) AS n FROM items"))["rows"] == [{"n": 5}]


async def test_two_statements_in_one_query_are_refused(db_ctx, my_db):
    """Stacked statements are not run: the query fails at /query and the table survives."""
    with pytest.raises(NodeConfigError) as err:
        await run(db_ctx, my_db, query="SELECT 1; DROP TABLE items", read_only=False)
    assert err.value.pointer == "/query"
    assert (await run(db_ctx, my_db, query="SELECT count(*) AS n FROM items"))["rows"] == [{"n": 5}]


async def test_read_only_refuses_an_insert_naming_the_field(db_ctx, my_db):
    """With read_only on (the default) an INSERT fails at /read_only and the row is not written."""
    with pytest.raises(NodeConfigError) as err:
        await run(db_ctx, my_db, query="INSERT INTO items VALUES (99, 'x', 1)")
    assert err.value.pointer == "/read_only"
    assert (await run(db_ctx, my_db, query="SELECT count(*) AS n FROM items WHERE id = 99"))["rows"] == [{"n": 0}]


async def test_writing_with_read_only_off_commits_and_reports_rows_affected(db_ctx, my_db):
    """read_only false commits the write and the output has rows_affected."""
    out = await run(db_ctx, my_db, query="INSERT INTO items VALUES (%s, %s, 7), (%s, %s, 8)",
                    params=[50, "a", 51, "b"], read_only=False)
    assert out == {"rows": [], "row_count": 0, "truncated": False, "rows_affected": 2}
    out = await run(db_ctx, my_db, query="DELETE FROM items WHERE id >= %s", params=[50], read_only=False)
    assert out["rows_affected"] == 2


async def test_a_slow_query_hits_the_server_side_statement_limit(db_ctx, my_db):
    """SLEEP longer than timeout_s is stopped by the server (max_statement_time) and reported as a timeout."""
    with pytest.raises(NodeTemporaryError, match="timeout_s = 1 s") as err:
        await run(db_ctx, my_db, query="SELECT SLEEP(5) AS s", timeout_s=1)
    assert err.value.kind == "timeout"


async def test_a_wrong_password_names_the_credential_fields_and_hides_the_password(db_ctx, my_db):
    """A refused login is a config error at /credential naming username and password, without the password."""
    with pytest.raises(NodeConfigError) as err:
        await run(db_ctx, my_db, cred=my(my_db, username=my_db, password=PASSWORD + "-wrong"), query="SELECT 1")
    assert err.value.pointer == "/credential" and "username and password" in err.value.message
    assert PASSWORD not in err.value.message


async def test_the_user_with_the_right_password_gets_in(db_ctx, my_db):
    """The scratch user with its password reads its database (the wrong-password test is not a fluke)."""
    out = await run(db_ctx, my_db, cred=my(my_db, username=my_db, password=PASSWORD), query="SELECT 1 AS one")
    assert out["rows"] == [{"one": 1}]


async def test_a_connection_killed_mid_query_is_a_temporary_error(db_ctx, my_db):
    """KILL of the node's connection during a query makes the node fail with a retryable error."""
    admin = await aiomysql.connect(host=HOST, port=MY_PORT, user="root", autocommit=True)
    query = "SELECT SLEEP(20) AS kill_me"
    task = asyncio.create_task(run(db_ctx, my_db, query=query))
    try:
        async with admin.cursor() as cur:
            while True:
                await cur.execute("SELECT id FROM information_schema.processlist WHERE info = %s", (query,))
                found = await cur.fetchone()
                if found:
                    await cur.execute(f"KILL {int(found[0])}")
                    break
                await asyncio.sleep(0.05)
        with pytest.raises(NodeTemporaryError):
            await task
    finally:
        admin.close()


async def test_a_percent_sign_with_params_names_params(db_ctx, my_db):
    """A literal % beside %s placeholders is a config error at /params saying to write %%."""
    with pytest.raises(NodeConfigError, match="%%") as err:
        await run(db_ctx, my_db, query="SELECT id FROM items WHERE name LIKE 'item%' AND id = %s", params=[1])
    assert err.value.pointer == "/params"


async def test_the_engine_retries_a_refused_connection_until_the_server_is_there(my_db, forwarder_to):
    """The first attempt meets a closed port; the engine retries and the second attempt gets the rows."""
    fwd = forwarder_to(MY_PORT)
    clock = StartOnSleep(fwd)
    outcome, events = await run_node("db.mysql", {"query": "SELECT count(*) AS n FROM items"},
                                     my(my_db, port=fwd.port), clock=clock)
    assert outcome.status == "succeeded", outcome.error
    assert outcome.output["db"]["rows"] == [{"n": 5}]
    assert len(retries_of(events)) == 1 and len(clock.slept) == 1


async def test_the_engine_does_not_retry_a_syntax_error(my_db):
    """A query MariaDB cannot parse fails once, at /query, with no retry."""
    outcome, events = await run_node("db.mysql", {"query": "SELEKT 1", "retries": 2}, my(my_db))
    assert outcome.status == "failed" and outcome.error["pointer"] == "/query"
    assert retries_of(events) == []
