"""runs.parent_run_id / parent_node_id (flow.subworkflow links a child run to the node that
called it) and webhooks.respond (synchronous webhooks: immediately, when_done or node).

Revision ID: 0018_flowctl_links
Revises: 0018_run_explorer
Create Date: 2026-12-05 23:45:00
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0018_flowctl_links'
down_revision: Union[str, None] = '0018_run_explorer'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_run_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('parent_node_id', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_runs_parent_run_id', ['parent_run_id'], unique=False)
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('respond', sa.String(length=20), nullable=False,
                                      server_default='immediately'))


def downgrade() -> None:
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.drop_column('respond')
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_index('ix_runs_parent_run_id')
        batch_op.drop_column('parent_node_id')
        batch_op.drop_column('parent_run_id')
