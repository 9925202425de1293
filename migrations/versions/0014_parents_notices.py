"""parents and notices: invitation codes, parents' e-mail, in-page notices (also e-mailed), the
lessons whose absences were told, the school's SMTP settings

Revision ID: 0014_parents_notices
Revises: 0013
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0014_parents_notices'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('parent_invites',
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('used_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('used_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_parent_invites_school_id_schools'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['student_id'], ['users.id'], name=op.f('fk_parent_invites_student_id_users'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_parent_invites_created_by_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['used_by'], ['users.id'], name=op.f('fk_parent_invites_used_by_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_parent_invites'))
    )
    op.create_index(op.f('ix_parent_invites_school_id'), 'parent_invites', ['school_id'], unique=False)
    op.create_index(op.f('ix_parent_invites_student_id'), 'parent_invites', ['student_id'], unique=False)
    op.create_table('parent_contacts',
    sa.Column('parent_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.ForeignKeyConstraint(['parent_id'], ['users.id'], name=op.f('fk_parent_contacts_parent_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('parent_id', name=op.f('pk_parent_contacts'))
    )
    op.create_table('notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=300), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('read_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('student_id', sa.Integer(), nullable=True),
    sa.Column('lesson_id', sa.Integer(), nullable=True),
    sa.Column('email_state', sa.String(length=16), nullable=True),
    sa.Column('email_tries', sa.Integer(), nullable=False),
    sa.Column('email_next_at', storage.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_notices_school_id_schools'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notices_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['student_id'], ['users.id'], name=op.f('fk_notices_student_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lesson_id'], ['lessons.id'], name=op.f('fk_notices_lesson_id_lessons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices'))
    )
    op.create_index('ix_notices_user_read', 'notices', ['user_id', 'read_at'], unique=False)
    op.create_index('ix_notices_email_state', 'notices', ['email_state'], unique=False)
    op.create_table('absence_notice_runs',
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['lesson_id'], ['lessons.id'], name=op.f('fk_absence_notice_runs_lesson_id_lessons'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('lesson_id', name=op.f('pk_absence_notice_runs'))
    )
    op.create_table('school_smtp',
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('smtp_host', sa.String(length=255), nullable=False),
    sa.Column('smtp_port', sa.Integer(), nullable=False),
    sa.Column('smtp_user', sa.String(length=255), nullable=False),
    sa.Column('smtp_password', sa.String(length=255), nullable=False),
    sa.Column('smtp_from', sa.String(length=254), nullable=False),
    sa.Column('smtp_tls', sa.String(length=16), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_school_smtp_school_id_schools'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('school_id', name=op.f('pk_school_smtp'))
    )


def downgrade() -> None:
    op.drop_table('school_smtp')
    op.drop_table('absence_notice_runs')
    op.drop_index('ix_notices_email_state', table_name='notices')
    op.drop_index('ix_notices_user_read', table_name='notices')
    op.drop_table('notices')
    op.drop_table('parent_contacts')
    op.drop_index(op.f('ix_parent_invites_student_id'), table_name='parent_invites')
    op.drop_index(op.f('ix_parent_invites_school_id'), table_name='parent_invites')
    op.drop_table('parent_invites')
