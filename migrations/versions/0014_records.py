"""records: how long each kind of a lesson's records is kept (chat, board, materials' downloads, attempts)

Revision ID: 0014_records
Revises: 0013
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014_records'
down_revision = '0013'
branch_labels = None
depends_on = None

COLUMNS = ('chat_retention_days', 'board_retention_days', 'materials_retention_days', 'attempts_retention_days')


def upgrade() -> None:
    with op.batch_alter_table('schools') as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('schools') as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
