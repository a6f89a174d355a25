"""The credential vault's table (issue 15).

Revision ID: 0016_credentials
Revises: 0015_run_owners
Create Date: 2026-12-05 20:00:00
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = '0016_credentials'
down_revision: Union[str, None] = '0015_run_owners'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'credentials',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('tenant_id', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('type', sa.String(length=40), nullable=False),
        sa.Column('fields', sa.JSON().with_variant(JSONB(), 'postgresql'), nullable=False),
        sa.Column('secret', sa.Text(), nullable=False),
        sa.Column('wrapped_key', sa.Text(), nullable=False),
        sa.Column('key_version', sa.String(length=32), nullable=False),
        sa.Column('created_by', sa.String(length=32), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name='fk_credentials_tenant_id_tenants', ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], name='fk_credentials_created_by_users', ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name='pk_credentials'),
        sa.UniqueConstraint('tenant_id', 'name', name='uq_credentials_tenant_id_name'),
    )


def downgrade() -> None:
    op.drop_table('credentials')
