"""each student's time speaking and on camera in a lesson

Revision ID: 0006_participation
Revises: 0005
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0006_participation'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lesson_participation',
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('speaking_ms', sa.Integer(), nullable=False),
    sa.Column('camera_ms', sa.Integer(), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('lesson_id', 'user_id')
    )


def downgrade() -> None:
    op.drop_table('lesson_participation')
