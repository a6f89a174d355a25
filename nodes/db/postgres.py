"""db.postgres: one parameterised statement on PostgreSQL (asyncpg), its rows as the output."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg

from nodes.db.common import (Deadline, SqlConfig, login_refused, no_database, prepare, query_failed,
                             read_only_refused, rows_output, sql_spec, temporary)
from nodes.sdk import NodeContext, NodeError, credential_field

SPEC = sql_spec("db.postgres", "PostgreSQL query",
                "Runs one SQL statement with $1, $2... placeholders bound to `params` and outputs "
                "{rows, row_count, truncated}. Read-only by default; the time limit is also the server's "
                "statement_timeout.")
KIND = "PostgreSQL"
# SQLSTATEs (and classes) of failures that may pass: connection trouble, too many connections,
# out of resources, serialization failures and deadlocks, a server shutting down or starting.
_TEMPORARY_CLASSES = ("08", "40", "53")
_TEMPORARY = {"57P01", "57P02", "57P03", "55P03", "58000", "58030"}


class Config(SqlConfig):
    credential: str | None = credential_field("postgres", description="A PostgreSQL credential from the vault")


async def _json_codecs(conn: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _run(conn: asyncpg.Connection, config: Config, deadline: Deadline) -> dict[str, Any]:
    await conn.execute(f"SET statement_timeout = {deadline.statement_ms()}")   # an int we computed
    async with conn.transaction(readonly=config.read_only):
        stmt = await conn.prepare(config.query)
        limit, affected = config.max_rows + 1, None
        if stmt.get_attributes() and config.read_only:   # a cursor reads no more than it keeps
            rows = await (await stmt.cursor(*config.params)).fetch(limit)
        else:
            rows = await stmt.fetch(*config.params)
            status = (stmt.get_statusmsg() or "").split()
            affected = int(status[-1]) if status and status[-1].isdigit() else None
    return rows_output([dict(r) for r in rows], config.max_rows, affected, config.read_only)


def _classify(exc: BaseException, config: Config, cred: Any) -> BaseException:
    if isinstance(exc, NodeError):
        return exc
    if isinstance(exc, asyncpg.PostgresError):
        state, detail = exc.sqlstate or "", str(exc)
        if state in ("28P01", "28000"):
            return login_refused(KIND, cred, detail)
        if state == "3D000":
            return no_database(KIND, detail)
        if state == "25006":
            return read_only_refused(KIND, detail)
        if state[:2] in _TEMPORARY_CLASSES or state in _TEMPORARY:
            return temporary(KIND, detail)
        return query_failed(KIND, detail, "/params" if state == "22P02" and config.params else "/query")
    if isinstance(exc, (OSError, asyncpg.ConnectionDoesNotExistError, asyncpg.exceptions.InternalClientError)):
        return temporary(KIND, f"{type(exc).__name__}: {exc}")
    if isinstance(exc, asyncpg.InterfaceError):   # wrong number or type of params (checked client-side)
        return query_failed(KIND, str(exc), "/params")
    return exc


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    deadline, cred, address = await prepare(ctx, config, SPEC, KIND)
    f = cred.fields
    conn = None
    try:
        async with asyncio.timeout(deadline.remaining(0.5)):   # the server's timeout comes first
            # ssl as libpq's sslmode=require: encrypted; the name is not checked (we dial the checked IP)
            conn = await asyncpg.connect(host=address, port=int(f["port"]), user=f["username"],
                                         password=f.get("password") or None, database=f["database"],
                                         ssl="require" if f.get("ssl") else False, timeout=deadline.remaining(),
                                         server_settings={"application_name": "maily-flow"})
            await _json_codecs(conn)
            return await _run(conn, config, deadline)
    except TimeoutError:
        raise deadline.expired("connecting and running the query") from None
    except Exception as exc:
        if isinstance(exc, asyncpg.InterfaceError) and isinstance(exc.__context__, asyncpg.PostgresError):
            exc = exc.__context__   # the rollback after a lost connection failed too: report the cause
        if isinstance(exc, asyncpg.QueryCanceledError):
            raise deadline.expired() from None
        raise _classify(exc, config, cred) from None
    finally:
        if conn is not None:
            await _close(conn)


async def _close(conn: asyncpg.Connection) -> None:
    """Close politely; a connection stuck mid-query (cancelled) is cut."""
    try:
        await conn.close(timeout=1)
    except Exception:  # noqa: BLE001 - whatever state it is in, the socket goes
        conn.terminate()
