"""The queries behind /api/email: tenant templates, the outbox, suppressions. Each takes the
session and the caller's tenant id; another tenant's row is NotFound."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import new_id, utcnow
from backend.db.scoped import get_scoped
from backend.email.models import EmailOutboxMessage, EmailSuppression, EmailTemplate
from backend.email.schemas import TemplateIn


async def get_template(s: AsyncSession, tenant_id: str, template_id: str) -> EmailTemplate:
    return await get_scoped(s, EmailTemplate, tenant_id, template_id, "email template")


async def list_templates(s: AsyncSession, tenant_id: str) -> Sequence[EmailTemplate]:
    return (await s.execute(sa.select(EmailTemplate).where(EmailTemplate.tenant_id == tenant_id)
                            .order_by(EmailTemplate.name))).scalars().all()


async def create_template(s: AsyncSession, tenant_id: str, body: TemplateIn) -> EmailTemplate:
    row = EmailTemplate(tenant_id=tenant_id, **body.model_dump())
    s.add(row)
    await s.flush()
    return row


async def update_template(s: AsyncSession, tenant_id: str, template_id: str, body: TemplateIn) -> EmailTemplate:
    row = await get_template(s, tenant_id, template_id)
    for k, v in body.model_dump().items():
        setattr(row, k, v)
    row.updated_at = utcnow()
    await s.flush()
    return row


async def delete_template(s: AsyncSession, tenant_id: str, template_id: str) -> None:
    await s.delete(await get_template(s, tenant_id, template_id))


async def list_outbox(s: AsyncSession, tenant_id: str, limit: int, offset: int) -> Sequence[EmailOutboxMessage]:
    return (await s.execute(sa.select(EmailOutboxMessage).where(EmailOutboxMessage.tenant_id == tenant_id)
                            .order_by(EmailOutboxMessage.created_at.desc()).limit(limit).offset(offset))).scalars().all()


async def get_outbox(s: AsyncSession, tenant_id: str, message_id: str) -> EmailOutboxMessage:
    return await get_scoped(s, EmailOutboxMessage, tenant_id, message_id, "outbox message")


async def list_suppressions(s: AsyncSession, tenant_id: str) -> Sequence[EmailSuppression]:
    return (await s.execute(sa.select(EmailSuppression).where(EmailSuppression.tenant_id == tenant_id)
                            .order_by(EmailSuppression.created_at.desc()).limit(1000))).scalars().all()


async def suppress(s: AsyncSession, tenant_id: str, email: str, reason: str, source: str) -> None:
    """Idempotent, also when two requests suppress the same address at once (no IntegrityError)."""
    await s.execute(insert(EmailSuppression).values(id=new_id(), tenant_id=tenant_id, email=email, reason=reason,
                                                    source=source, created_at=utcnow())
                    .on_conflict_do_nothing(index_elements=["tenant_id", "email"]))


async def delete_suppression(s: AsyncSession, tenant_id: str, email: str) -> None:
    await s.execute(sa.delete(EmailSuppression).where(EmailSuppression.tenant_id == tenant_id,
                                                      EmailSuppression.email == email.lower()))
