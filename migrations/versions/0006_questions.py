"""the lesson's questions (Q&A) and their votes

Revision ID: 0006_questions
Revises: 0005
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0006_questions'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lesson_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('answer_text', sa.String(length=2000), nullable=True),
    sa.Column('answered_live', sa.Boolean(), nullable=False),
    sa.Column('answered_by', sa.Integer(), nullable=True),
    sa.Column('answered_at', storage.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lesson_questions'))
    )
    op.create_index('ix_lesson_questions_lesson', 'lesson_questions', ['lesson_id', 'id'], unique=False)
    op.create_table('lesson_question_votes',
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['lesson_questions.id'],
                            name=op.f('fk_lesson_question_votes_question_id_lesson_questions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('question_id', 'user_id', name=op.f('pk_lesson_question_votes'))
    )


def downgrade() -> None:
    op.drop_table('lesson_question_votes')
    op.drop_index('ix_lesson_questions_lesson', table_name='lesson_questions')
    op.drop_table('lesson_questions')
