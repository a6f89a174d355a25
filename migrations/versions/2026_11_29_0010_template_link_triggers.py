"""Template links remember the triggers their import (or last update) created from the template, the base
of an update's trigger changes, as base_graph is of its graph merge. NULL for links made before this.

Revision ID: 0010_template_link_triggers
Revises: 0009_email_webhook_signing
Create Date: 2026-11-29 16:30:00
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


revision: str = '0010_template_link_triggers'
down_revision: Union[str, None] = '0009_email_webhook_signing'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('template_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base_triggers', JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('template_links', schema=None) as batch_op:
        batch_op.drop_column('base_triggers')
