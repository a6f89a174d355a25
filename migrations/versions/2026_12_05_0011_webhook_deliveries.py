"""Signed webhook deliveries already accepted, until their timestamp leaves the tolerance window
(replay protection when no Redis is configured; backend/triggers/replay.py).

Revision ID: 0011_webhook_deliveries
Revises: 0010_template_link_triggers
Create Date: 2026-12-05 10:20:00
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0011_webhook_deliveries'
down_revision: Union[str, None] = '0010_template_link_triggers'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'webhook_deliveries',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    op.create_index('ix_webhook_deliveries_expires_at', 'webhook_deliveries', ['expires_at'])


def downgrade() -> None:
    op.drop_index('ix_webhook_deliveries_expires_at', table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
