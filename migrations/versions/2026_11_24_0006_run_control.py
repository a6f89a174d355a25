"""Run control: suspended runs (resume_at, waiting_on) and the links of retries and re-runs.

Revision ID: 0006_run_control
Revises: 0005
Create Date: 2026-11-24 09:00:00
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = '0006_run_control'
down_revision: Union[str, None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resume_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('waiting_on', JSON, nullable=True))
        batch_op.add_column(sa.Column('retry_of', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('rerun_from', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_runs_status_resume_at', ['status', 'resume_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_index('ix_runs_status_resume_at')
        batch_op.drop_column('rerun_from')
        batch_op.drop_column('retry_of')
        batch_op.drop_column('waiting_on')
        batch_op.drop_column('resume_at')
