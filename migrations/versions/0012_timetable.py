"""the timetable: periods, weekly lesson series, change notices, teachers' change requests; lessons'
series, periods, cancellation, make-up and substitute

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('session', sa.String(length=16), nullable=False),
    sa.Column('starts', sa.String(length=5), nullable=False),
    sa.Column('ends', sa.String(length=5), nullable=False),
    sa.CheckConstraint('number BETWEEN 1 AND 10', name=op.f('ck_periods_number_range')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_periods_school_id_schools'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_periods')),
    sa.UniqueConstraint('school_id', 'number', name=op.f('uq_periods_school_id_number'))
    )
    op.create_index(op.f('ix_periods_school_id'), 'periods', ['school_id'], unique=False)
    op.create_table('lesson_series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('school_year_id', sa.Integer(), nullable=False),
    sa.Column('class_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('teacher_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('period_from', sa.Integer(), nullable=False),
    sa.Column('period_to', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_lesson_series_school_id_schools'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_year_id'], ['school_years.id'], name=op.f('fk_lesson_series_school_year_id_school_years'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['class_id'], ['classes.id'], name=op.f('fk_lesson_series_class_id_classes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_lesson_series_subject_id_subjects')),
    sa.ForeignKeyConstraint(['teacher_id'], ['users.id'], name=op.f('fk_lesson_series_teacher_id_users')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_lesson_series_created_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lesson_series'))
    )
    op.create_index(op.f('ix_lesson_series_school_id'), 'lesson_series', ['school_id'], unique=False)
    with op.batch_alter_table('lessons', schema=None) as batch_op:
        batch_op.add_column(sa.Column('series_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('period_from', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('period_to', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cancelled_at', storage.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('cancel_reason', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('makeup_of', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('substitute_for', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_lessons_series_id'), ['series_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_lessons_series_id_lesson_series'), 'lesson_series',
                                    ['series_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_lessons_makeup_of_lessons'), 'lessons',
                                    ['makeup_of'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_lessons_substitute_for_users'), 'users',
                                    ['substitute_for'], ['id'], ondelete='SET NULL')
    op.create_table('lesson_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('before', sa.Text(), nullable=True),
    sa.Column('after', sa.Text(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_lesson_changes_school_id_schools'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lesson_id'], ['lessons.id'], name=op.f('fk_lesson_changes_lesson_id_lessons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_lesson_changes_actor_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lesson_changes'))
    )
    op.create_index('ix_lesson_changes_lesson', 'lesson_changes', ['lesson_id'], unique=False)
    op.create_table('lesson_change_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('teacher_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('proposed', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('decision_note', sa.String(length=500), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_lesson_change_requests_school_id_schools'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lesson_id'], ['lessons.id'], name=op.f('fk_lesson_change_requests_lesson_id_lessons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['teacher_id'], ['users.id'], name=op.f('fk_lesson_change_requests_teacher_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_lesson_change_requests_decided_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lesson_change_requests'))
    )
    op.create_index('ix_lesson_change_requests_school_status', 'lesson_change_requests', ['school_id', 'status'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_lesson_change_requests_school_status', table_name='lesson_change_requests')
    op.drop_table('lesson_change_requests')
    op.drop_index('ix_lesson_changes_lesson', table_name='lesson_changes')
    op.drop_table('lesson_changes')
    with op.batch_alter_table('lessons', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_lessons_substitute_for_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_lessons_makeup_of_lessons'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_lessons_series_id_lesson_series'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_lessons_series_id'))
        for column in ('substitute_for', 'makeup_of', 'cancel_reason', 'cancelled_at', 'period_to', 'period_from',
                       'series_id'):
            batch_op.drop_column(column)
    op.drop_index(op.f('ix_lesson_series_school_id'), table_name='lesson_series')
    op.drop_table('lesson_series')
    op.drop_index(op.f('ix_periods_school_id'), table_name='periods')
    op.drop_table('periods')
