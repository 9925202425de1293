"""lesson videos: render state apart from the playable version, re-render requests, versions,
notes of what a render skipped, chapters

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('render_state', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('render_again', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('notes', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('chapters', sa.Text(), nullable=True))
        batch_op.create_index('ix_recordings_render_state', ['render_state'], unique=False)
    # Renders queued or running under the old scheme stay queued (a running one is started again).
    op.execute("UPDATE recordings SET render_state = 'queued' "
               "WHERE kind = 'composite' AND status IN ('queued', 'rendering')")
    op.execute("UPDATE recordings SET status = 'queued' WHERE kind = 'composite' AND status = 'rendering'")
    op.execute("UPDATE recordings SET version = 1 WHERE kind = 'composite' AND status = 'complete'")


def downgrade() -> None:
    op.execute("UPDATE recordings SET status = 'queued' WHERE kind = 'composite' AND render_state IS NOT NULL "
               "AND status NOT IN ('complete', 'deleted')")
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.drop_index('ix_recordings_render_state')
        batch_op.drop_column('chapters')
        batch_op.drop_column('notes')
        batch_op.drop_column('version')
        batch_op.drop_column('render_again')
        batch_op.drop_column('render_state')
