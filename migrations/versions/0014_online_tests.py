"""online tests: question banks, tests, attempts, their answers and integrity events

Revision ID: 0014_online_tests
Revises: 0013
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0014_online_tests'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('question_banks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_question_banks_owner_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_question_banks_school_id_schools'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_question_banks_subject_id_subjects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question_banks'))
    )
    op.create_index(op.f('ix_question_banks_school_id'), 'question_banks', ['school_id'], unique=False)
    op.create_index(op.f('ix_question_banks_subject_id'), 'question_banks', ['subject_id'], unique=False)
    op.create_table('questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bank_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('correct', sa.JSON(), nullable=True),
    sa.Column('points', sa.Float(), nullable=False),
    sa.Column('image', sa.LargeBinary(), nullable=True),
    sa.Column('image_mime', sa.String(length=64), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['bank_id'], ['question_banks.id'], name=op.f('fk_questions_bank_id_question_banks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questions'))
    )
    op.create_index(op.f('ix_questions_bank_id'), 'questions', ['bank_id'], unique=False)
    op.create_table('online_tests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('class_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('teacher_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('opens_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('closes_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('time_limit_minutes', sa.Integer(), nullable=False),
    sa.Column('attempts_allowed', sa.Integer(), nullable=False),
    sa.Column('results_published', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('camera_required', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=True),
    sa.Column('question_ids', sa.JSON(), nullable=False),
    sa.Column('draws', sa.JSON(), nullable=False),
    sa.Column('shuffle', sa.Boolean(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['class_id'], ['classes.id'], name=op.f('fk_online_tests_class_id_classes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lesson_id'], ['lessons.id'], name=op.f('fk_online_tests_lesson_id_lessons'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_online_tests_school_id_schools'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_online_tests_subject_id_subjects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['teacher_id'], ['users.id'], name=op.f('fk_online_tests_teacher_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_online_tests'))
    )
    op.create_index(op.f('ix_online_tests_class_id'), 'online_tests', ['class_id'], unique=False)
    op.create_index(op.f('ix_online_tests_school_id'), 'online_tests', ['school_id'], unique=False)
    op.create_table('test_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('test_id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('started_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('deadline_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('submitted_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('points', sa.Float(), nullable=True),
    sa.Column('max_points', sa.Float(), nullable=False),
    sa.Column('score10', sa.Float(), nullable=True),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('device', sa.String(length=64), nullable=False),
    sa.Column('submitted_by', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['student_id'], ['users.id'], name=op.f('fk_test_attempts_student_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['test_id'], ['online_tests.id'], name=op.f('fk_test_attempts_test_id_online_tests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_test_attempts')),
    sa.UniqueConstraint('test_id', 'student_id', 'number', name=op.f('uq_test_attempts_test_id_student_id_number'))
    )
    op.create_index('ix_test_attempts_status_deadline', 'test_attempts', ['status', 'deadline_at'], unique=False)
    op.create_index(op.f('ix_test_attempts_student_id'), 'test_attempts', ['student_id'], unique=False)
    op.create_index(op.f('ix_test_attempts_test_id'), 'test_attempts', ['test_id'], unique=False)
    op.create_table('attempt_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('answer', sa.JSON(), nullable=False),
    sa.Column('saved_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('points', sa.Float(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('graded_by', sa.Integer(), nullable=True),
    sa.Column('graded_at', storage.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['attempt_id'], ['test_attempts.id'], name=op.f('fk_attempt_answers_attempt_id_test_attempts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attempt_answers')),
    sa.UniqueConstraint('attempt_id', 'question_id', name=op.f('uq_attempt_answers_attempt_id_question_id'))
    )
    op.create_index(op.f('ix_attempt_answers_attempt_id'), 'attempt_answers', ['attempt_id'], unique=False)
    op.create_table('attempt_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('detail', sa.String(length=200), nullable=False),
    sa.Column('device', sa.String(length=64), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['test_attempts.id'], name=op.f('fk_attempt_events_attempt_id_test_attempts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attempt_events'))
    )
    op.create_index(op.f('ix_attempt_events_attempt_id'), 'attempt_events', ['attempt_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_attempt_events_attempt_id'), table_name='attempt_events')
    op.drop_table('attempt_events')
    op.drop_index(op.f('ix_attempt_answers_attempt_id'), table_name='attempt_answers')
    op.drop_table('attempt_answers')
    op.drop_index(op.f('ix_test_attempts_test_id'), table_name='test_attempts')
    op.drop_index(op.f('ix_test_attempts_student_id'), table_name='test_attempts')
    op.drop_index('ix_test_attempts_status_deadline', table_name='test_attempts')
    op.drop_table('test_attempts')
    op.drop_index(op.f('ix_online_tests_school_id'), table_name='online_tests')
    op.drop_index(op.f('ix_online_tests_class_id'), table_name='online_tests')
    op.drop_table('online_tests')
    op.drop_index(op.f('ix_questions_bank_id'), table_name='questions')
    op.drop_table('questions')
    op.drop_index(op.f('ix_question_banks_subject_id'), table_name='question_banks')
    op.drop_index(op.f('ix_question_banks_school_id'), table_name='question_banks')
    op.drop_table('question_banks')
