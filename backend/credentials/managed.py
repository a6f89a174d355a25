"""Credentials that another domain manages through its own API: the AI provider keys
(/api/ai/credentials, type ai_provider, one per provider) and the email provider
(/api/email/provider, type email_provider, one per workspace). They live in the vault like any
other credential (sealed, rotated, listed in /api/credentials); these helpers find them by type
and a public field rather than by name, since a person may rename them.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backend.credentials.envelope import Keyring
from backend.credentials.models import Credential
from backend.credentials.services import open_values, store_values
from backend.db.models import new_id, utcnow


async def find(s: AsyncSession, tenant_id: str, type_: str, **match: Any) -> list[Credential]:
    """The tenant's credentials of type_ whose public fields equal `match`, oldest first."""
    rows = await s.scalars(sa.select(Credential).where(Credential.tenant_id == tenant_id, Credential.type == type_)
                           .order_by(Credential.created_at, Credential.id))
    return [r for r in rows if all(r.fields.get(k) == v for k, v in match.items())]


async def free_name(s: AsyncSession, tenant_id: str, name: str) -> str:
    """name, or name (2), (3)...: the first one the workspace does not use yet."""
    taken = set(await s.scalars(sa.select(Credential.name).where(Credential.tenant_id == tenant_id,
                                                                 Credential.name.startswith(name, autoescape=True))))
    n, candidate = 1, name
    while candidate in taken:
        n += 1
        candidate = f"{name} ({n})"
    return candidate


async def current(s: AsyncSession, keyring: Keyring, tenant_id: str, type_: str,
                  **match: Any) -> tuple[Credential | None, dict[str, Any]]:
    """The managed credential matching `match` and its opened values, or (None, {})."""
    found = await find(s, tenant_id, type_, **match)
    return (found[0], open_values(found[0], keyring)) if found else (None, {})


async def upsert(s: AsyncSession, keyring: Keyring, tenant_id: str, type_: str, name: str, values: dict[str, Any],
                 match: dict[str, Any], *, created_by: str | None = None) -> Credential:
    """Create or re-seal the managed credential matching `match` with exactly `values`."""
    found = await find(s, tenant_id, type_, **match)
    if found:
        await store_values(s, found[0], keyring, values)
        return found[0]
    row = Credential(id=new_id(), tenant_id=tenant_id, name=await free_name(s, tenant_id, name), type=type_,
                     created_by=created_by, created_at=utcnow(), updated_at=utcnow())
    s.add(row)
    await store_values(s, row, keyring, values)
    return row
