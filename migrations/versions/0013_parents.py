"""parents: a parent account linked to its children (students)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('parent_links',
    sa.Column('parent_id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['users.id'], name=op.f('fk_parent_links_parent_id_users'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['student_id'], ['users.id'], name=op.f('fk_parent_links_student_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('parent_id', 'student_id', name=op.f('pk_parent_links'))
    )
    op.create_index(op.f('ix_parent_links_student_id'), 'parent_links', ['student_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_parent_links_student_id'), table_name='parent_links')
    op.drop_table('parent_links')
