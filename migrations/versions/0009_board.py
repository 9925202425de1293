"""the board's documents and its slides joined into one line of history

Revision ID: 0009
Revises: 0008_board, 0008_board_slides
Create Date: 2026-11-30
"""
from __future__ import annotations

revision = '0009'
down_revision = ('0008_board', '0008_board_slides')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
