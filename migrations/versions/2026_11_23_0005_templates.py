"""Templates: saved and uploaded templates with their sharing, and the link from a workflow
to the template version it was imported from.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 22:00:00
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = '0005'
down_revision: Union[str, None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'templates',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('tenant_id', sa.String(length=32), nullable=False),
        sa.Column('owner_id', sa.String(length=32), nullable=True),
        sa.Column('slug', sa.String(length=64), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('category', sa.String(length=64), nullable=False),
        sa.Column('tags', JSON, nullable=False),
        sa.Column('icon', sa.String(length=40), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('visibility', sa.String(length=20), nullable=False),
        sa.Column('document', JSON, nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_templates_tenant_id_tenants'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_templates_owner_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_templates')),
    )
    with op.batch_alter_table('templates', schema=None) as batch_op:
        batch_op.create_index('ix_templates_tenant_id_visibility', ['tenant_id', 'visibility'], unique=False)
        batch_op.create_index('ix_templates_visibility', ['visibility'], unique=False)

    op.create_table(
        'template_links',
        sa.Column('workflow_id', sa.String(length=32), nullable=False),
        sa.Column('tenant_id', sa.String(length=32), nullable=False),
        sa.Column('template_id', sa.String(length=64), nullable=False),
        sa.Column('template_version', sa.Integer(), nullable=False),
        sa.Column('params', JSON, nullable=False),
        sa.Column('base_graph', JSON, nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['workflow_id'], ['workflows.id'], name=op.f('fk_template_links_workflow_id_workflows'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('workflow_id', name=op.f('pk_template_links')),
    )
    with op.batch_alter_table('template_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_template_links_tenant_id'), ['tenant_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('template_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_template_links_tenant_id'))
    op.drop_table('template_links')
    with op.batch_alter_table('templates', schema=None) as batch_op:
        batch_op.drop_index('ix_templates_visibility')
        batch_op.drop_index('ix_templates_tenant_id_visibility')
    op.drop_table('templates')
