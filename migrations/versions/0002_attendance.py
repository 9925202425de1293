"""attendance log and open presences; per-school attendance thresholds

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('attendance_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('presence_id', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('via', sa.String(length=16), nullable=False),
    sa.Column('room', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('node_id', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance_events'))
    )
    with op.batch_alter_table('attendance_events', schema=None) as batch_op:
        batch_op.create_index('ix_attendance_events_lesson_at', ['lesson_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendance_events_presence_id'), ['presence_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendance_events_user_id'), ['user_id'], unique=False)
    op.create_table('attendance_open_presences',
    sa.Column('presence_id', sa.String(length=36), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('node_id', sa.String(length=64), nullable=False),
    sa.Column('last_seen_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('connected', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('presence_id', name=op.f('pk_attendance_open_presences'))
    )
    with op.batch_alter_table('attendance_open_presences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendance_open_presences_lesson_id'), ['lesson_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendance_open_presences_node_id'), ['node_id'], unique=False)
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.add_column(sa.Column('late_after_minutes', sa.Integer(), nullable=False, server_default='5'))
        batch_op.add_column(sa.Column('left_early_minutes', sa.Integer(), nullable=False, server_default='5'))


def downgrade() -> None:
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.drop_column('left_early_minutes')
        batch_op.drop_column('late_after_minutes')
    op.drop_table('attendance_open_presences')
    op.drop_table('attendance_events')
