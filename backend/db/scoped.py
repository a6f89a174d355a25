"""A tenant's row by id: the lookup every domain's get-by-id makes, written once.

`find_scoped` answers the row or None: None for another tenant's id, an unknown id and a string
that is no id alike, so a caller cannot tell another workspace's row from a missing one.
`get_scoped` raises NotFound (404) instead. Extra conditions (`Workflow.deleted_at.is_(None)`,
the parent a webhook belongs to) and a row lock go through the same query. A member is looked up
by user id (`find_member`). `tests/backend/db/test_scoped.py` fails for a module that filters a
row by its id and its tenant by hand.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Membership, looks_like_id
from backend.errors import NotFound

Row = TypeVar("Row")


async def find_scoped(s: AsyncSession, model: type[Row], tenant_id: str, row_id: Any,
                      *where: ColumnElement[bool], for_update: bool = False) -> Row | None:
    """The tenant's row `row_id` of `model` that also meets `where`, or None."""
    if not isinstance(row_id, str) or not looks_like_id(row_id):
        return None
    m: Any = model
    if not where and not for_update:   # the session's identity map may already hold it
        row: Any = await s.get(model, row_id)
        return row if row is not None and row.tenant_id == tenant_id else None
    q = select(model).where(m.id == row_id, m.tenant_id == tenant_id, *where)
    return await s.scalar(q.with_for_update() if for_update else q)


async def get_scoped(s: AsyncSession, model: type[Row], tenant_id: str, row_id: Any, what: str,
                     *where: ColumnElement[bool], for_update: bool = False) -> Row:
    """Another tenant's id, or a string that is no id, is NotFound (404) like a missing one."""
    row = await find_scoped(s, model, tenant_id, row_id, *where, for_update=for_update)
    if row is None:
        raise NotFound(f"no {what} {row_id}")
    return row


async def find_member(s: AsyncSession, tenant_id: str, user_id: Any) -> Membership | None:
    """The user's membership of the tenant, or None."""
    if not isinstance(user_id, str) or not looks_like_id(user_id):
        return None
    return await s.scalar(select(Membership).where(Membership.tenant_id == tenant_id, Membership.user_id == user_id))


__all__ = ["find_member", "find_scoped", "get_scoped"]
