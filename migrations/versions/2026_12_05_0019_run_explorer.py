"""The run explorer and run retention: trigram indexes for searching runs' inputs, outputs and
errors (pg_trgm), and the per-workspace retention policy table.

The indexed expressions must stay identical to backend/runs/explorer.py's `RUN_TEXT` and
`NODE_TEXT`, or the planner cannot use them.

Revision ID: 0018_run_explorer
Revises: 0018_panel_run_reuse
Create Date: 2026-12-05 23:30:00
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0018_run_explorer'
down_revision: Union[str, None] = '0018_panel_run_reuse'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

RUN_TEXT = ("(coalesce((input)::text, '') || ' ' || coalesce((output)::text, '') || ' ' "
            "|| coalesce((error)::text, ''))")
NODE_TEXT = "(coalesce((output)::text, '') || ' ' || coalesce((error)::text, ''))"


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(f"CREATE INDEX IF NOT EXISTS ix_runs_search_trgm ON runs USING gin ({RUN_TEXT} gin_trgm_ops)")
    op.execute(f"CREATE INDEX IF NOT EXISTS ix_node_runs_search_trgm ON node_runs USING gin ({NODE_TEXT} gin_trgm_ops)")
    # retention deletes a pruned run's outbox rows by run id
    op.create_index('ix_email_outbox_run_id', 'email_outbox', ['run_id'])
    op.create_table(
        'run_retention',
        sa.Column('tenant_id', sa.String(length=32), nullable=False),
        sa.Column('keep_days', sa.Integer(), nullable=False, server_default='30'),
        sa.Column('max_per_workflow', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name='fk_run_retention_tenant_id_tenants',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('tenant_id', name='pk_run_retention'),
    )


def downgrade() -> None:
    op.drop_table('run_retention')
    op.drop_index('ix_email_outbox_run_id', table_name='email_outbox')
    op.execute("DROP INDEX IF EXISTS ix_node_runs_search_trgm")
    op.execute("DROP INDEX IF EXISTS ix_runs_search_trgm")
