"""Triggers: webhooks (encrypted secrets), cron schedules, workflow chains and their firings.

Revision ID: 0008_triggers
Revises: 0007_audit
Create Date: 2026-11-24 12:00:00
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql


revision: str = '0008_triggers'
down_revision: Union[str, None] = '0007_audit'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'webhooks',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('tenant_id', sa.String(length=32), nullable=False),
        sa.Column('workflow_id', sa.String(length=32), nullable=False),
        sa.Column('secret_enc', sa.Text(), nullable=False),
        sa.Column('secret_hint', sa.String(length=16), nullable=False),
        sa.Column('allow_token', sa.Boolean(), nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('created_by', sa.String(length=32), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('rotated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_webhooks_tenant_id_tenants'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['workflow_id'], ['workflows.id'], name=op.f('fk_webhooks_workflow_id_workflows'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhooks')),
    )
    op.create_index(op.f('ix_webhooks_tenant_id'), 'webhooks', ['tenant_id'])
    op.create_index(op.f('ix_webhooks_workflow_id'), 'webhooks', ['workflow_id'])

    op.create_table(
        'schedules',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('tenant_id', sa.String(length=32), nullable=False),
        sa.Column('workflow_id', sa.String(length=32), nullable=False),
        sa.Column('cron', sa.String(length=200), nullable=False),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('input', JSON, nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('next_run_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revision', sa.Integer(), server_default='0', nullable=False),
        sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_run_id', sa.String(length=32), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_by', sa.String(length=32), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_schedules_tenant_id_tenants'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['workflow_id'], ['workflows.id'], name=op.f('fk_schedules_workflow_id_workflows'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_schedules')),
    )
    op.create_index(op.f('ix_schedules_tenant_id'), 'schedules', ['tenant_id'])
    op.create_index(op.f('ix_schedules_workflow_id'), 'schedules', ['workflow_id'])
    op.create_index('ix_schedules_enabled_next_run_at', 'schedules', ['enabled', 'next_run_at'])

    op.create_table(
        'workflow_chains',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('tenant_id', sa.String(length=32), nullable=False),
        sa.Column('source_workflow_id', sa.String(length=32), nullable=False),
        sa.Column('target_workflow_id', sa.String(length=32), nullable=False),
        sa.Column('on', JSON, nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('created_by', sa.String(length=32), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_workflow_chains_tenant_id_tenants'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['source_workflow_id'], ['workflows.id'],
                                name=op.f('fk_workflow_chains_source_workflow_id_workflows'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['target_workflow_id'], ['workflows.id'],
                                name=op.f('fk_workflow_chains_target_workflow_id_workflows'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_workflow_chains')),
        sa.UniqueConstraint('source_workflow_id', 'target_workflow_id',
                            name=op.f('uq_workflow_chains_source_workflow_id_target_workflow_id')),
    )
    op.create_index(op.f('ix_workflow_chains_tenant_id'), 'workflow_chains', ['tenant_id'])
    op.create_index(op.f('ix_workflow_chains_target_workflow_id'), 'workflow_chains', ['target_workflow_id'])

    op.create_table(
        'workflow_chain_firings',
        sa.Column('chain_id', sa.String(length=32), nullable=False),
        sa.Column('source_run_id', sa.String(length=32), nullable=False),
        sa.Column('tenant_id', sa.String(length=32), nullable=False),
        sa.Column('target_run_id', sa.String(length=32), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['chain_id'], ['workflow_chains.id'],
                                name=op.f('fk_workflow_chain_firings_chain_id_workflow_chains'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('chain_id', 'source_run_id', name=op.f('pk_workflow_chain_firings')),
    )
    op.create_index(op.f('ix_workflow_chain_firings_tenant_id'), 'workflow_chain_firings', ['tenant_id'])


def downgrade() -> None:
    op.drop_table('workflow_chain_firings')
    op.drop_table('workflow_chains')
    op.drop_table('schedules')
    op.drop_table('webhooks')
