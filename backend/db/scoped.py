"""A tenant's row by id: the lookup every domain's get-by-id handler makes."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import looks_like_id
from backend.errors import NotFound

Row = TypeVar("Row")


async def get_scoped(s: AsyncSession, model: type[Row], tenant_id: str, row_id: str, what: str) -> Row:
    """Another tenant's id, or a string that is no id, is NotFound (404) like a missing one."""
    row: Any = await s.get(model, row_id) if looks_like_id(row_id) else None
    if row is None or row.tenant_id != tenant_id:
        raise NotFound(f"no {what} {row_id}")
    return row
