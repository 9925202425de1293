"""slides for the board: uploaded PDFs and images, converted to page images

Revision ID: 0008_board_slides
Revises: 0007
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0008_board_slides'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('board_slides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('error', sa.String(length=32), nullable=True),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('page_heights', sa.JSON(), nullable=False),
    sa.Column('node', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_board_slides'))
    )
    op.create_index('ix_board_slides_lesson_id', 'board_slides', ['lesson_id'], unique=False)
    op.create_index('ix_board_slides_status', 'board_slides', ['status'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_board_slides_status', table_name='board_slides')
    op.drop_index('ix_board_slides_lesson_id', table_name='board_slides')
    op.drop_table('board_slides')
