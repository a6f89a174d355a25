"""The queries behind /api/email: tenant templates, the outbox, suppressions. Each takes the
session and the caller's tenant id; another tenant's row is NotFound."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import new_id, utcnow
from backend.db.scoped import get_scoped
from backend.email.models import EmailOutboxMessage, EmailSuppression, EmailTemplate
from backend.email.schemas import TemplateIn
from backend.errors import Conflict


async def get_template(s: AsyncSession, tenant_id: str, template_id: str) -> EmailTemplate:
    return await get_scoped(s, EmailTemplate, tenant_id, template_id, "email template")


async def list_templates(s: AsyncSession, tenant_id: str) -> Sequence[EmailTemplate]:
    return (await s.execute(sa.select(EmailTemplate).where(EmailTemplate.tenant_id == tenant_id)
                            .order_by(EmailTemplate.name))).scalars().all()


async def _write(s: AsyncSession, row: EmailTemplate, body: TemplateIn) -> EmailTemplate:
    """`body` into the template, in a savepoint: a name another template of the workspace has is
    a 409 naming the field (and the transaction goes on)."""
    try:
        async with s.begin_nested():   # begun before the change: it flushes what was pending first
            for k, v in body.model_dump().items():
                setattr(row, k, v)
            s.add(row)
            await s.flush()
    except IntegrityError:
        raise Conflict(f"the workspace already has an email template named {body.name!r}", field="name") from None
    return row


async def create_template(s: AsyncSession, tenant_id: str, body: TemplateIn) -> EmailTemplate:
    return await _write(s, EmailTemplate(tenant_id=tenant_id), body)


async def update_template(s: AsyncSession, tenant_id: str, template_id: str, body: TemplateIn) -> EmailTemplate:
    row = await get_template(s, tenant_id, template_id)
    row.updated_at = utcnow()
    return await _write(s, row, body)


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
