"""How the AI gateway's hot statements reach the database: one unit of work, one trip.

A unit is a plain function of a SQLAlchemy Connection (Core statements, no ORM session).

The app's async engine (asyncpg) in AUTOCOMMIT, the unit run through run_sync: a unit of one
statement is one round trip, without BEGIN and COMMIT around it. Each statement commits on its
own, so what must be atomic has to be ONE statement (the gateway's settle-and-record is a
data-modifying CTE).

`durable=False`: the unit runs on a second small autocommit pool whose sessions
have synchronous_commit off, so its commit does not wait for the WAL flush (one round trip, no
fsync). WAL is flushed in order, so such a commit becomes durable with the next durable commit
after it; a server crash loses at most the last fraction of a second of them. Used for:
- cache entries (a lost one costs a provider call later);
- reservations: the call's durable settle-and-ledger statement comes after its reservation and
  flushes it; a crash before that loses the call's result as well, and the hold with it;
- the ledger rows of cache hits (cost 0, no budget effect).
Settles and ledger rows of real calls always wait for the flush.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from backend.ai.models import AiBudget, AiCacheEntry, AiUsage
from backend.ai.services import month_spend_query
from backend.db.models import Tenant
from backend.db.session import NODE_POOL_TIMEOUT_S, Database

T = TypeVar("T")


class Sql:
    def __init__(self, db: Database):
        self.db = db
        self._auto = db.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._lazy = create_async_engine(
            db.url, isolation_level="AUTOCOMMIT", pool_size=2, max_overflow=8, pool_pre_ping=True,
            pool_timeout=NODE_POOL_TIMEOUT_S,
            connect_args={"server_settings": {"synchronous_commit": "off"}})

    async def run(self, unit: Callable[..., T], *args: Any, durable: bool = True) -> T:
        async with (self._auto if durable else self._lazy).connect() as conn:
            return await conn.run_sync(unit, *args)

    async def aclose(self) -> None:
        await self._lazy.dispose()



# --- the statements, built once with bind parameters ---------------------------------------
_budgets, _usage, _cache = AiBudget.__table__, AiUsage.__table__, AiCacheEntry.__table__
_b, _c = _budgets.c, _cache.c
_NOW = sa.bindparam("p_now", type_=_b.updated_at.type)
_PERIOD = sa.bindparam("p_period", type_=sa.String())
_TENANT = sa.bindparam("p_tenant", type_=sa.String())
_COST = sa.bindparam("p_cost", type_=_b.spent_micros.type)
_SPENT = sa.case((_b.period == _PERIOD, _b.spent_micros), else_=0)
_CALLS = sa.case((_b.period == _PERIOD, _b.calls), else_=0)
# The estimate and one call, only if they fit; the month rolls over in the same statement.
_RESERVE = (sa.update(_budgets)
            .where(_b.tenant_id == _TENANT,
                   sa.or_(_b.monthly_budget_micros.is_(None), _SPENT + _COST <= _b.monthly_budget_micros),
                   sa.or_(_b.monthly_call_quota.is_(None), _CALLS + 1 <= _b.monthly_call_quota))
            .values(spent_micros=_SPENT + _COST, calls=_CALLS + 1, period=_PERIOD, updated_at=_NOW))
# Give back the estimate and charge the real cost; a call that did not happen gives its slot back.
_DELTA = sa.bindparam("p_delta", type_=_b.spent_micros.type)
_SETTLE = {True: (sa.update(_budgets).where(_b.tenant_id == _TENANT, _b.period == _PERIOD)
                  .values(spent_micros=_b.spent_micros + _DELTA, updated_at=_NOW))}
_SETTLE[False] = _SETTLE[True].values(calls=_b.calls - 1)
# Every column explicitly, under its own parameter names (l_...): nothing else in a statement
# may pick a ledger value up by column name.
_LEDGER_COLUMNS = [c for c in _usage.c if c.name != "id"]
_LEDGER = sa.insert(_usage).values({c: sa.bindparam("l_" + c.name, type_=c.type) for c in _LEDGER_COLUMNS})
# Settle and the ledger row as ONE statement (a data-modifying CTE), so that in
# autocommit both happen or neither, in one round trip.
_SETTLE_AND_LEDGER = {called: _LEDGER.add_cte(stmt.cte("settle")) for called, stmt in _SETTLE.items()}
_CACHE_GET = sa.select(_c.value).where(_c.key == sa.bindparam("p_key", type_=sa.String()), _c.expires_at > _NOW)


# --- the units -----------------------------------------------------------------------------
def reserve(conn: Connection, tenant_id: str, cost_micros: int, now: datetime) -> bool:
    params = {"p_tenant": tenant_id, "p_cost": cost_micros, "p_period": now.strftime("%Y-%m"), "p_now": now}
    if conn.execute(_RESERVE, params).rowcount == 1:
        return True
    # Refused, or the tenant's first call: create its row (once) and try again. The row has
    # no limits and starts from the month's ledger, as put_budget does; the ledger is summed
    # only when the row is missing (a refused call does not pay for it). ON CONFLICT DO
    # NOTHING: it may be created concurrently. Selected from tenants, so a deleted tenant
    # gets no row (and no call).
    month = month_spend_query(tenant_id, now)
    spent, calls = (month.with_only_columns(col).scalar_subquery() for col in month.selected_columns)
    t = Tenant.__table__.c
    missing = ~sa.exists().where(_b.tenant_id == tenant_id)
    rows = sa.select(t.id, sa.literal(params["p_period"]), spent, calls,
                     sa.literal(now, _b.updated_at.type)).where(t.id == tenant_id, missing)
    conn.execute(insert(_budgets).from_select(["tenant_id", "period", "spent_micros", "calls", "updated_at"],
                                          rows).on_conflict_do_nothing())
    return conn.execute(_RESERVE, params).rowcount == 1


def ledger_params(row: dict[str, Any]) -> dict[str, Any]:
    return {"l_" + c.name: row[c.name] if c.name in row else _default(c) for c in _LEDGER_COLUMNS}


def _default(column: sa.Column[Any]) -> Any:
    d = column.default
    if d is None:
        return None
    return d.arg if d.is_scalar else d.arg(None)   # type: ignore[attr-defined]


def finish(conn: Connection, tenant_id: str, reserved_micros: int, actual_micros: int, called: bool,
           ledger_row: dict[str, Any] | None, now: datetime) -> None:
    """Settle the reservation and write the ledger row: both or neither."""
    settle = {"p_tenant": tenant_id, "p_period": now.strftime("%Y-%m"), "p_delta": actual_micros - reserved_micros,
              "p_now": now}
    if ledger_row is None:
        conn.execute(_SETTLE[called], settle)
    else:
        conn.execute(_SETTLE_AND_LEDGER[called], {**ledger_params(ledger_row), **settle})


def record(conn: Connection, ledger_row: dict[str, Any]) -> None:
    conn.execute(_LEDGER, ledger_params(ledger_row))


def cache_get(conn: Connection, key: str, now: datetime) -> dict[str, Any] | None:
    return conn.execute(_CACHE_GET, {"p_key": key, "p_now": now}).scalar()


def cache_set(conn: Connection, key: str, value: dict[str, Any], ttl_s: int, now: datetime, sweep: bool) -> None:
    expires = now + timedelta(seconds=ttl_s)
    stmt = insert(_cache).values(key=key, value=value, expires_at=expires)
    conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value, "expires_at": expires}))
    if sweep:   # expired entries go a hundred at a time, so the table never needs a sweeper job
        old = sa.select(_c.key).where(_c.expires_at < now).limit(100).scalar_subquery()
        conn.execute(sa.delete(_cache).where(_c.key.in_(old)))
