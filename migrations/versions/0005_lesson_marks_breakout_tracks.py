"""lesson marks (breakout groups starting and ending, for the lesson video's chapters); the
breakout group a recorded track belongs to

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-09
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lesson_marks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('lesson_marks', schema=None) as batch_op:
        batch_op.create_index('ix_lesson_marks_lesson_at', ['lesson_id', 'at'], unique=False)
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('breakout_group', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.drop_column('breakout_group')
    with op.batch_alter_table('lesson_marks', schema=None) as batch_op:
        batch_op.drop_index('ix_lesson_marks_lesson_at')
    op.drop_table('lesson_marks')
