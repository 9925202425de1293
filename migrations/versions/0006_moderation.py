"""moderation: students removed from a lesson (lesson_bans); when a lesson was ended and when its
room closes (lessons.ended_at, lessons.closes_at); the school's grace after a lesson's end

Revision ID: 0006_moderation
Revises: 0005
Create Date: 2026-12-12
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0006_moderation'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lesson_bans',
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('lifted_at', storage.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('lesson_id', 'user_id')
    )
    with op.batch_alter_table('lessons', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ended_at', storage.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('closes_at', storage.types.UTCDateTime(), nullable=True))
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lesson_grace_minutes', sa.Integer(), server_default='15', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.drop_column('lesson_grace_minutes')
    with op.batch_alter_table('lessons', schema=None) as batch_op:
        batch_op.drop_column('closes_at')
        batch_op.drop_column('ended_at')
    op.drop_table('lesson_bans')
