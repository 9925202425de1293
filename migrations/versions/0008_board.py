"""the whiteboard: boards, their op log and snapshots

Revision ID: 0008_board
Revises: 0007
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0008_board'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('boards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('room', sa.String(length=40), nullable=False),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_boards')),
    sa.UniqueConstraint('lesson_id', 'room', name=op.f('uq_boards_lesson_id_room'))
    )
    op.create_table('board_ops',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('board_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('op', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['board_id'], ['boards.id'], name=op.f('fk_board_ops_board_id_boards'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_board_ops')),
    sa.UniqueConstraint('board_id', 'seq', name=op.f('uq_board_ops_board_id_seq'))
    )
    op.create_table('board_snapshots',
    sa.Column('board_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['board_id'], ['boards.id'], name=op.f('fk_board_snapshots_board_id_boards'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('board_id', name=op.f('pk_board_snapshots'))
    )


def downgrade() -> None:
    op.drop_table('board_snapshots')
    op.drop_table('board_ops')
    op.drop_table('boards')
