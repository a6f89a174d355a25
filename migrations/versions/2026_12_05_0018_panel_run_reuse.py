"""runs.reuse: the outputs a run's first pass reuses, as the app decided them (a test run from the
node panel, a re-run confirmed to repeat a side effect), so a worker in production mode runs the
same pass without deciding again.

Revision ID: 0018_panel_run_reuse
Revises: 0017_secrets_into_vault
Create Date: 2026-12-05 23:55:00
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB


revision: str = '0018_panel_run_reuse'
down_revision: Union[str, None] = '0017_secrets_into_vault'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reuse', sa.JSON().with_variant(JSONB(), 'postgresql'), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_column('reuse')
