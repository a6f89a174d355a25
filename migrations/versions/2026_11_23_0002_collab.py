"""Co-editing: the shared document of each workflow's draft (compacted state + updates since).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 19:00:00
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('workflow_docs',
    sa.Column('workflow_id', sa.String(length=32), nullable=False),
    sa.Column('tenant_id', sa.String(length=32), nullable=False),
    sa.Column('state', sa.LargeBinary(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workflow_id'], ['workflows.id'], name=op.f('fk_workflow_docs_workflow_id_workflows'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('workflow_id', name=op.f('pk_workflow_docs'))
    )
    with op.batch_alter_table('workflow_docs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workflow_docs_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('workflow_doc_updates',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('workflow_id', sa.String(length=32), nullable=False),
    sa.Column('update', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workflow_id'], ['workflows.id'], name=op.f('fk_workflow_doc_updates_workflow_id_workflows'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workflow_doc_updates'))
    )
    with op.batch_alter_table('workflow_doc_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workflow_doc_updates_workflow_id'), ['workflow_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('workflow_doc_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workflow_doc_updates_workflow_id'))
    op.drop_table('workflow_doc_updates')
    with op.batch_alter_table('workflow_docs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workflow_docs_tenant_id'))
    op.drop_table('workflow_docs')
