"""runs.root_run_id: the first run of a retry / re-run chain, so side effects (email sends) are
keyed on the lineage, not on the run (docs/email.md "Exactly once"); backfilled by walking retry_of.

Revision ID: 0014_email_lineage
Revises: 0013_members
Create Date: 2026-12-05 14:00:00
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0014_email_lineage'
down_revision: Union[str, None] = '0013_members'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('root_run_id', sa.String(length=32), nullable=True))
    conn = op.get_bind()
    runs = sa.table('runs', sa.column('id', sa.String), sa.column('retry_of', sa.String),
                    sa.column('root_run_id', sa.String))
    parent = dict(conn.execute(sa.select(runs.c.id, runs.c.retry_of)).all())
    for run_id in parent:
        root, seen = run_id, {run_id}
        while parent.get(root) and parent[root] in parent and parent[root] not in seen:  # a cycle cannot loop
            root = parent[root]
            seen.add(root)
        conn.execute(sa.update(runs).where(runs.c.id == run_id).values(root_run_id=root))


def downgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_column('root_run_id')
