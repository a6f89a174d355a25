"""AI gateway: credentials (encrypted), budgets, usage ledger, response cache.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 20:00:00
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0003'
down_revision: Union[str, None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table('ai_credentials',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('tenant_id', sa.String(length=32), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('secret', sa.Text(), nullable=False),
    sa.Column('key_hint', sa.String(length=12), nullable=False),
    sa.Column('base_url', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_ai_credentials_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ai_credentials')),
    sa.UniqueConstraint('tenant_id', 'provider', name=op.f('uq_ai_credentials_tenant_id_provider'))
    )
    op.create_table('ai_budgets',
    sa.Column('tenant_id', sa.String(length=32), nullable=False),
    sa.Column('monthly_budget_micros', BigInt, nullable=True),
    sa.Column('monthly_call_quota', sa.Integer(), nullable=True),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('spent_micros', BigInt, server_default='0', nullable=False),
    sa.Column('calls', sa.Integer(), server_default='0', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_ai_budgets_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_ai_budgets'))
    )
    op.create_table('ai_usage',
    sa.Column('id', BigInt, autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.String(length=32), nullable=False),
    sa.Column('workflow_id', sa.String(length=32), nullable=True),
    sa.Column('run_id', sa.String(length=64), nullable=True),
    sa.Column('node_id', sa.String(length=64), nullable=True),
    sa.Column('node_type', sa.String(length=100), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('model', sa.String(length=100), nullable=False),
    sa.Column('tokens_in', sa.Integer(), nullable=False),
    sa.Column('tokens_out', sa.Integer(), nullable=False),
    sa.Column('cost_micros', BigInt, nullable=False),
    sa.Column('cached', sa.Boolean(), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('error', sa.String(length=300), nullable=True),
    sa.Column('latency_ms', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ai_usage'))
    )
    op.create_index('ix_ai_usage_tenant_id_created_at', 'ai_usage', ['tenant_id', 'created_at'], unique=False)
    op.create_table('ai_cache',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('value', JSONType, nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_ai_cache'))
    )
    op.create_index(op.f('ix_ai_cache_expires_at'), 'ai_cache', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_ai_cache_expires_at'), table_name='ai_cache')
    op.drop_table('ai_cache')
    op.drop_index('ix_ai_usage_tenant_id_created_at', table_name='ai_usage')
    op.drop_table('ai_usage')
    op.drop_table('ai_budgets')
    op.drop_table('ai_credentials')
