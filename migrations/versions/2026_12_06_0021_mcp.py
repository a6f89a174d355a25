"""workflows.mcp_exposed: whether a published workflow is a tool of the workspace's MCP server (/mcp).

Revision ID: 0021_mcp
Revises: 0018_flowctl_links
Create Date: 2026-12-06 02:30:00
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0021_mcp'
down_revision: Union[str, None] = '0018_flowctl_links'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('workflows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mcp_exposed', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('workflows', schema=None) as batch_op:
        batch_op.drop_column('mcp_exposed')
