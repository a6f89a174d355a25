"""get_scoped: a tenant's row by id, and 404 for everything else."""

from __future__ import annotations

import pytest

from backend.db.models import new_id
from backend.db.scoped import get_scoped
from backend.email.models import EmailTemplate
from backend.errors import NotFound


async def test_own_row_is_found_and_others_are_not_found(db, tenant_a, tenant_b):
    """The owner's id returns the row; another tenant's id, an unknown id and a non-id all raise NotFound."""
    row_id = new_id()
    async with db.sessionmaker() as s, s.begin():
        s.add(EmailTemplate(id=row_id, tenant_id=tenant_a.id, name="hello"))
    async with db.sessionmaker() as s:
        assert (await get_scoped(s, EmailTemplate, tenant_a.id, row_id, "email template")).name == "hello"
        for tenant_id, other_id in ((tenant_b.id, row_id), (tenant_a.id, "0" * 32), (tenant_a.id, "not an id")):
            with pytest.raises(NotFound, match="no email template"):
                await get_scoped(s, EmailTemplate, tenant_id, other_id, "email template")
