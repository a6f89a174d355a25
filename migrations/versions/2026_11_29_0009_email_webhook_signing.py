"""Email webhook signing: the provider's signing secret or public key (encrypted) on the
provider settings, and the one-time webhook tokens already seen (Mailgun replays).

Revision ID: 0009_email_webhook_signing
Revises: 0008_triggers
Create Date: 2026-11-29 13:00:00
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0009_email_webhook_signing'
down_revision: Union[str, None] = '0008_triggers'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('email_provider_configs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('webhook_secret', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('webhook_provider', sa.String(length=20), server_default='', nullable=False))

    op.create_table(
        'email_webhook_nonces',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('tenant_id', sa.String(length=32), nullable=False),
        sa.Column('provider', sa.String(length=20), nullable=False),
        sa.Column('token', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_email_webhook_nonces_tenant_id_tenants'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_email_webhook_nonces')),
        sa.UniqueConstraint('tenant_id', 'provider', 'token', name=op.f('uq_email_webhook_nonces_tenant_id_provider_token')),
    )
    op.create_index('ix_email_webhook_nonces_created_at', 'email_webhook_nonces', ['created_at'])


def downgrade() -> None:
    op.drop_index('ix_email_webhook_nonces_created_at', table_name='email_webhook_nonces')
    op.drop_table('email_webhook_nonces')
    with op.batch_alter_table('email_provider_configs', schema=None) as batch_op:
        batch_op.drop_column('webhook_provider')
        batch_op.drop_column('webhook_secret')
