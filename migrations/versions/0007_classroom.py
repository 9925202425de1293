"""the classroom's tables joined into one line of history (chat, questions, polls, moderation,
participation and the activity log were added side by side)

Revision ID: 0007
Revises: 0006_activity, 0006_chat, 0006_moderation, 0006_participation, 0006_polls, 0006_questions
Create Date: 2026-11-30
"""
from __future__ import annotations

revision = '0007'
down_revision = ('0006_activity', '0006_chat', '0006_moderation', '0006_participation', '0006_polls',
                 '0006_questions')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
