"""db.mysql: one parameterised statement on MySQL or MariaDB (aiomysql), its rows as the output."""

from __future__ import annotations

import asyncio
import json
import ssl
from typing import Any

import aiomysql
import pymysql
import pymysql.constants.CLIENT

from nodes.db.common import (Deadline, SqlConfig, login_refused, no_database, prepare, query_failed,
                             read_only_refused, rows_output, sql_spec, temporary)
from nodes.sdk import NodeContext, NodeError, credential_field

SPEC = sql_spec("db.mysql", "MySQL / MariaDB query",
                "Runs one SQL statement with %s placeholders bound to `params` and outputs "
                "{rows, row_count, truncated}. Read-only by default; the time limit is also the server's "
                "statement time limit (max_statement_time on MariaDB, max_execution_time on MySQL).")
KIND = "MySQL"
_LOGIN = {1044, 1045, 1698}             # access denied (to the database, for the user)
_TIMEOUT = {1969, 3024}                 # MariaDB max_statement_time, MySQL max_execution_time
_READ_ONLY = {1792}                     # cannot execute statement in a READ ONLY transaction
# connection refused/lost, server gone or shutting down, too many connections, lock wait,
# deadlock, query or connection killed
_TEMPORARY = {1040, 1053, 1205, 1213, 1317, 1927, 2002, 2003, 2006, 2013, 2055}


class _OneStatement(aiomysql.Connection):
    """aiomysql always asks for multi-statement support; this connection does not, so
    `SELECT 1; DROP TABLE t` is a syntax error instead of two statements."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client_flag &= ~pymysql.constants.CLIENT.MULTI_STATEMENTS


class Config(SqlConfig):
    credential: str | None = credential_field("mysql", description="A MySQL / MariaDB credential from the vault")


def _param(value: Any) -> Any:
    """A dict or list is bound as its JSON text (MySQL's JSON type takes text)."""
    return json.dumps(value) if isinstance(value, (dict, list)) else value


async def _run(conn: aiomysql.Connection, config: Config, deadline: Deadline) -> dict[str, Any]:
    ms = deadline.statement_ms()
    async with conn.cursor() as cur:   # the values are numbers we computed
        if "mariadb" in conn.get_server_info().lower():
            await cur.execute(f"SET SESSION max_statement_time = {ms / 1000:.3f}")
        else:
            await cur.execute(f"SET SESSION max_execution_time = {ms}")
        await cur.execute("START TRANSACTION READ ONLY" if config.read_only else "START TRANSACTION")
    params = [_param(p) for p in config.params] or None
    # Read-only: an unbuffered cursor reads max_rows + 1 rows and the connection is then closed
    # (nothing to commit). Writing: the whole result, then commit.
    cursor_class = aiomysql.SSDictCursor if config.read_only else aiomysql.DictCursor
    cur = await conn.cursor(cursor_class)
    try:
        await cur.execute(config.query, params)
    except (TypeError, ValueError) as exc:   # % placeholders and params do not match
        raise query_failed(KIND, f"the %s placeholders do not match the {len(config.params)} params ({exc}); "
                                 "write a literal % as %%", "/params") from None
    if config.read_only:
        rows = await cur.fetchmany(config.max_rows + 1) if cur.description else []
        return rows_output(list(rows), config.max_rows, None, True)
    rows = list(await cur.fetchall()) if cur.description else []
    affected = cur.rowcount
    await conn.commit()
    return rows_output(rows, config.max_rows, affected, False)


def _classify(exc: BaseException, cred: Any) -> BaseException:
    if isinstance(exc, NodeError):
        return exc
    if isinstance(exc, pymysql.err.MySQLError):
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
        detail = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
        if code in _LOGIN:
            return login_refused(KIND, cred, detail)
        if code == 1049:
            return no_database(KIND, detail)
        if code in _READ_ONLY:
            return read_only_refused(KIND, detail)
        if code in _TEMPORARY or (isinstance(exc, pymysql.err.OperationalError) and code >= 2000):
            return temporary(KIND, f"{code} {detail}")
        return query_failed(KIND, f"{code} {detail}")
    if isinstance(exc, OSError):
        return temporary(KIND, f"{type(exc).__name__}: {exc}")
    return exc


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    deadline, cred, address = await prepare(ctx, config, SPEC, KIND)
    f = cred.fields
    tls = None
    if f.get("ssl"):   # encrypted; the name is not checked (we dial the checked IP), as sslmode=require
        tls = ssl.create_default_context()
        tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE
    conn = None
    try:
        async with asyncio.timeout(deadline.remaining(0.5)):   # the server's limit comes first
            conn = _OneStatement(host=address, port=int(f["port"]), user=f["username"],
                                 password=f.get("password") or "", db=f["database"], ssl=tls,
                                 connect_timeout=deadline.remaining(), charset="utf8mb4", autocommit=False,
                                 local_infile=False, program_name="maily-flow")
            await conn._connect()   # what aiomysql.connect() does after building its Connection
            return await _run(conn, config, deadline)
    except TimeoutError:
        raise deadline.expired("connecting and running the query") from None
    except Exception as exc:
        if isinstance(exc, pymysql.err.MySQLError) and exc.args and exc.args[0] in _TIMEOUT:
            raise deadline.expired() from None
        raise _classify(exc, cred) from None
    finally:
        if conn is not None:
            conn.close()   # read-only: nothing to commit; writing: committed above, or rolled back
