"""feed_pollers, feed_seen_items, mail_attachments: the polling triggers trigger.rss and
trigger.imap (backend/feeds/).

Revision ID: 0021_feeds
Revises: 0021_mcp
Create Date: 2026-12-06 02:30:00
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB


revision: str = '0021_feeds'
down_revision: Union[str, None] = '0021_mcp'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_JSON = sa.JSON().with_variant(JSONB(), 'postgresql')
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'feed_pollers',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('tenant_id', sa.String(length=32), nullable=False),
        sa.Column('workflow_id', sa.String(length=32), nullable=False),
        sa.Column('node_id', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('config', _JSON, nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('next_poll_at', _TS, nullable=True),
        sa.Column('revision', sa.Integer(), server_default='0', nullable=False),
        sa.Column('lease_owner', sa.String(length=64), nullable=True),
        sa.Column('lease_until', _TS, nullable=True),
        sa.Column('state', _JSON, nullable=False),
        sa.Column('last_polled_at', _TS, nullable=True),
        sa.Column('last_run_id', sa.String(length=32), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_by', sa.String(length=32), nullable=True),
        sa.Column('created_at', _TS, nullable=False),
        sa.Column('updated_at', _TS, nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name='fk_feed_pollers_tenant_id_tenants',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['workflow_id'], ['workflows.id'], name='fk_feed_pollers_workflow_id_workflows',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_feed_pollers'),
        sa.UniqueConstraint('workflow_id', 'node_id', name='uq_feed_pollers_workflow_id_node_id'),
    )
    op.create_index('ix_feed_pollers_tenant_id', 'feed_pollers', ['tenant_id'])
    op.create_index('ix_feed_pollers_enabled_next_poll_at', 'feed_pollers', ['enabled', 'next_poll_at'])
    op.create_table(
        'feed_seen_items',
        sa.Column('workflow_id', sa.String(length=32), nullable=False),
        sa.Column('feed_key', sa.String(length=64), nullable=False),
        sa.Column('item_key', sa.String(length=64), nullable=False),
        sa.Column('seen_at', _TS, nullable=False),
        sa.ForeignKeyConstraint(['workflow_id'], ['workflows.id'], name='fk_feed_seen_items_workflow_id_workflows',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('workflow_id', 'feed_key', 'item_key', name='pk_feed_seen_items'),
    )
    op.create_index('ix_feed_seen_items_feed_seen_at', 'feed_seen_items', ['workflow_id', 'feed_key', 'seen_at'])
    op.create_table(
        'mail_attachments',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('tenant_id', sa.String(length=32), nullable=False),
        sa.Column('workflow_id', sa.String(length=32), nullable=False),
        sa.Column('run_id', sa.String(length=32), nullable=True),
        sa.Column('message_id', sa.Text(), nullable=False),
        sa.Column('filename', sa.Text(), nullable=False),
        sa.Column('content_type', sa.String(length=255), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', _TS, nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name='fk_mail_attachments_tenant_id_tenants',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['workflow_id'], ['workflows.id'], name='fk_mail_attachments_workflow_id_workflows',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name='fk_mail_attachments_run_id_runs', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_mail_attachments'),
    )
    op.create_index('ix_mail_attachments_tenant_id', 'mail_attachments', ['tenant_id'])
    op.create_index('ix_mail_attachments_workflow_id', 'mail_attachments', ['workflow_id'])
    op.create_index('ix_mail_attachments_run_id', 'mail_attachments', ['run_id'])


def downgrade() -> None:
    op.drop_table('mail_attachments')
    op.drop_table('feed_seen_items')
    op.drop_table('feed_pollers')
