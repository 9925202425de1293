"""the lesson's chat (public, per breakout group, private)

Revision ID: 0006_chat
Revises: 0005
Create Date: 2026-12-10
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0006_chat'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chat_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=True),
    sa.Column('room', sa.String(length=64), nullable=False),
    sa.Column('text', sa.String(length=2000), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('deleted_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('deleted_by', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_chat_messages_lesson_id', 'chat_messages', ['lesson_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_chat_messages_lesson_id', table_name='chat_messages')
    op.drop_table('chat_messages')
